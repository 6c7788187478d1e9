package ldap

import (
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// encodeEntry is the LDAPMessage content of a SearchResultEntry with dn
// and the attributes kv (name, value, name, value…; a repeated name adds a
// value).
func encodeEntry(dn string, kv ...string) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, ""))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for i := 0; i+1 < len(kv); i += 2 {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, kv[i], ""))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, kv[i+1], ""))
		a.AppendChild(set)
		list.AppendChild(a)
	}
	op.AppendChild(list)
	p.AppendChild(op)
	// A constructed packet's Data is its encoded children: the message
	// content, without the SEQUENCE header.
	return p.Data.Bytes()
}

// FuzzEntryMapping feeds arbitrary message bytes through the decoder and
// the user and group mapping of three configurations (OpenLDAP with nested
// groups, memberUid groups, Active Directory) next to well-formed entries:
// nothing panics, and every member of the resulting Snapshot has the
// identity the contract promises (a userName and an external key).
func FuzzEntryMapping(f *testing.F) {
	f.Add(encodedEntry(1))
	f.Add(encodeEntry("cn=eng,ou=groups,dc=example,dc=org", "entryUUID", "g-1", "cn", "eng",
		"member", "uid=user000001,ou=people,dc=example,dc=org", "member", "cn=sub,ou=groups,dc=example,dc=org"))
	f.Add(encodeEntry("cn=sub,ou=groups,dc=example,dc=org", "entryUUID", "g-2", "cn", "sub", "member", "cn=eng,ou=groups,dc=example,dc=org"))
	f.Add(encodeEntry("CN=Ann,OU=People,DC=corp,DC=example", "objectGUID", "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10",
		"userPrincipalName", "ann@corp.example", "userAccountControl", "514", "accountExpires", "9223372036854775807"))
	f.Add(encodeEntry("CN=Big,OU=Groups,DC=corp,DC=example", "objectGUID", "\x10\x0f\x0e\x0d\x0c\x0b\x0a\x09\x08\x07\x06\x05\x04\x03\x02\x01",
		"cn", "Big", "member;range=0-1499", "CN=Ann,OU=People,DC=corp,DC=example"))
	f.Add(encodeEntry("cn=posix,ou=groups,dc=example,dc=org", "entryUUID", "g-3", "cn", "posix", "memberUid", "user000001", "memberUid", "user000001"))
	f.Add(encodeEntry("uid=x\\2c\\00,ou=people,dc=example,dc=org", "entryUUID", "", "mail", " \t", "uid", "\xff\xfe"))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})

	configs := []Config{
		{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}, Group: GroupConfig{BaseDN: "ou=groups,dc=example,dc=org", Nested: true},
			RequireGroup: ""},
		{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org", UIDAttribute: "uid"}, Group: GroupConfig{BaseDN: "ou=groups,dc=example,dc=org", MemberAttribute: "memberUid"}},
		{URL: "ldaps://x", Flavor: FlavorAD, User: UserConfig{BaseDN: "DC=corp,DC=example"}, Group: GroupConfig{BaseDN: "DC=corp,DC=example", Nested: true}},
	}
	good := [][]byte{encodedEntry(1), encodedEntry(2),
		encodeEntry("cn=all,ou=groups,dc=example,dc=org", "entryUUID", "g-all", "cn", "all", "member", "uid=user000002,ou=people,dc=example,dc=org")}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, cfg := range configs {
			s, err := New("fuzz", cfg, zerolog.Nop())
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			s.Now = func() time.Time { return time.Unix(1_800_000_000, 0) }
			r := newReader(s, nil)
			for _, asUser := range []bool{true, false} {
				for _, m := range append(good, msg) {
					var e wire.Entry
					if ok, err := wire.DecodeEntry(m, &e); !ok || err != nil {
						continue
					}
					if asUser {
						_ = r.addUser(&e)
					} else {
						_ = r.addGroup(&e)
					}
				}
			}
			snap, err := r.snapshot()
			if err != nil {
				continue
			}
			for _, m := range snap.Members {
				if m.UserName == "" || m.ExternalID == "" {
					t.Fatalf("%s: member without identity: %+v", cfg.Flavor, m)
				}
			}
			for _, g := range snap.Groups {
				if g.ExternalID == "" || g.DisplayName == "" {
					t.Fatalf("%s: group without identity: %+v", cfg.Flavor, g)
				}
			}
		}
	})
}
