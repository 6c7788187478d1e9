package ldap

import (
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// encodedEntry is the LDAPMessage content of a typical user entry, as the
// wire client reads it into its buffer.
func encodedEntry(i int) []byte {
	uid := fmt.Sprintf("user%06d", i)
	return encodeEntry("uid="+uid+",ou=people,dc=example,dc=org",
		"entryUUID", fmt.Sprintf("6f1c2a3e-0000-1000-8000-%012d", i), "mail", uid+"@example.org",
		"givenName", "User", "sn", fmt.Sprintf("N%06d", i), "cn", "User "+uid, "uid", uid)
}

// BenchmarkDecodeAndMapUser measures what the source spends per user entry
// once its bytes have arrived: decoding the message and mapping it.
func BenchmarkDecodeAndMapUser(b *testing.B) {
	msgs := make([][]byte, 1000)
	for i := range msgs {
		msgs[i] = encodedEntry(i)
	}
	cfg := Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}}
	s, err := New("bench", cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	s.Now = func() time.Time { return time.Unix(0, 0) }
	r := newReader(s, nil)
	var e wire.Entry
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%len(msgs) == 0 {
			r.users, r.byDN = r.users[:0], map[string]int32{}
		}
		if ok, err := wire.DecodeEntry(msgs[i%len(msgs)], &e); !ok || err != nil {
			b.Fatal(ok, err)
		}
		if err := r.addUser(&e); err != nil {
			b.Fatal(err)
		}
	}
	if len(r.users) == 0 || r.users[0].name != "user000000@example.org" {
		b.Fatalf("mapped %+v", r.users[:1])
	}
}
