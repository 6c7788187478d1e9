package ldap

import (
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
			filterOff: i%50 == 0, expires: map[bool]string{true: "133000000000000000"}[i%7 == 0], held: map[bool]string{true: "no mail"}[i%1000 == 3]}
	}
	groups := make([]group, g)
	for j := range groups {
		groups[j] = group{dn: fmt.Sprintf("cn=group%04d,ou=groups,dc=example,dc=org", j), id: fmt.Sprintf("g-%d", j), name: fmt.Sprintf("group%04d", j)}
		for k := 0; k < m; k++ {
			groups[j].vals = append(groups[j].vals, users[(j*n/g+k)%n].dn)
		}
		groups[j].vals = append(groups[j].vals, "cn=elsewhere,dc=example,dc=org")
		groups[j].readHeld, groups[j].held = "", ""
	}
	return users, groups
}

// TestStateRoundTrip: the stored state decodes to exactly what was read.
func TestStateRoundTrip(t *testing.T) {
	for _, tc := range []struct{ n, g, m int }{{0, 0, 0}, {1, 1, 1}, {2000, 20, 150}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			users, groups := stateFixture(tc.n, tc.g, tc.m)
			b, err := encodeState(users, groups)
			if err != nil {
				t.Fatal(err)
			}
			gotU, gotG, err := decodeState(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) == 0 {
				users, groups = []user{}, []group{}
			}
			if !reflect.DeepEqual(gotU, users) || !reflect.DeepEqual(gotG, groups) {
				t.Fatal("the decoded state differs from the encoded one")
			}
		})
	}
	if _, _, err := decodeState([]byte("garbage")); err == nil {
		t.Fatal("garbage decoded")
	}
}

func BenchmarkState(b *testing.B) {
	users, groups := stateFixture(100000, 1000, 200)
	enc, err := encodeState(users, groups)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("100k users, 1k groups x 200: %d bytes", len(enc))
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeState(users, groups); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := decodeState(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
