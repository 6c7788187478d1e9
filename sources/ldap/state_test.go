package ldap

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func stateFixture(n, g, m int) ([]user, []group) {
	users := make([]user, n)
	for i := range users {
		users[i] = user{dn: fmt.Sprintf("uid=user%06d,ou=people,dc=example,dc=org", i), id: fmt.Sprintf("%08x-82b9-1041-8de8-15aa4bf5c216", i),
			name: fmt.Sprintf("user%06d@example.org", i), email: fmt.Sprintf("user%06d@example.org", i), given: "User",
			family: fmt.Sprintf("N%06d", i), display: fmt.Sprintf("User %06d", i), uid: fmt.Sprintf("user%06d", i),
			filterOff: i%50 == 0, expires: map[bool]string{true: "133000000000000000"}[i%7 == 0], held: map[bool]string{true: "no mail"}[i%1000 == 3],
			digest: uint64(i) * 0x9e3779b97f4a7c15}
		if i%3 == 0 {
			users[i].extra = &extra{title: "Engineer", employeeNumber: fmt.Sprint(i), department: "R&D", managerDN: users[i/2].dn}
		}
	}
	groups := make([]group, g)
	for j := range groups {
		groups[j] = group{dn: fmt.Sprintf("cn=group%04d,ou=groups,dc=example,dc=org", j), id: fmt.Sprintf("g-%d", j), name: fmt.Sprintf("group%04d", j)}
		for k := 0; k < m; k++ {
			groups[j].vals = append(groups[j].vals, users[(j*n/g+k)%n].dn)
		}
		groups[j].vals = append(groups[j].vals, "cn=elsewhere,dc=example,dc=org")
		groups[j].readHeld, groups[j].held, groups[j].digest = "", "", uint64(j)+1
	}
	return users, groups
}

// TestStateRoundTrip: the stored state decodes to exactly what was read:
// the enterprise attributes, the digests and the sync section too.
func TestStateRoundTrip(t *testing.T) {
	ss := syncState{users: []byte("rid=000,csn=20261203101622.811909Z#000000#000#000000"), groups: []byte("rid=000,csn=x"), off: "", static: false}
	for _, tc := range []struct {
		n, g, m int
		ss      syncState
	}{{0, 0, 0, syncState{}}, {1, 1, 1, ss}, {2000, 20, 150, syncState{off: "the server refused", static: true}}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			users, groups := stateFixture(tc.n, tc.g, tc.m)
			b, err := encodeState(users, groups, tc.ss, nil)
			if err != nil {
				t.Fatal(err)
			}
			gotU, gotG, gotS, err := decodeState(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) == 0 {
				users, groups = []user{}, []group{}
			}
			if !reflect.DeepEqual(gotU, users) || !reflect.DeepEqual(gotG, groups) || !reflect.DeepEqual(gotS, tc.ss) {
				t.Fatal("the decoded state differs from the encoded one")
			}
			if s, err := decodeSync(b); err != nil || !reflect.DeepEqual(s, tc.ss) {
				t.Fatalf("decodeSync: %+v, %v", s, err)
			}
		})
	}
	if _, _, _, err := decodeState([]byte("garbage")); err == nil {
		t.Fatal("garbage decoded")
	}
	// A state of layout 2 (before the enterprise attributes and the
	// cookies) does not decode: the read is full once, quietly.
	var le *layoutError
	if _, _, _, err := decodeState([]byte{2, 0, 0}); !errors.As(err, &le) || le.got != 2 {
		t.Fatalf("a layout 2 state: %v", err)
	}
}

func BenchmarkState(b *testing.B) {
	users, groups := stateFixture(100000, 1000, 200)
	enc, err := encodeState(users, groups, syncState{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("100k users, 1k groups x 200: %d bytes", len(enc))
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeState(users, groups, syncState{}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := decodeState(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
