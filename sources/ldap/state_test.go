package ldap

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/orgsync/orgsync/internal/statepatch"
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
			b, err := encodeState(users, groups, tc.ss, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			gotU, gotG, gotS, err := decodeState(b)
			if err != nil {
				t.Fatal(err)
			}
			// Each value's user index is the first user of its DN, or -1.
			first := map[string]int32{}
			for i := len(gotU) - 1; i >= 0; i-- {
				first[gotU[i].dn] = int32(i)
			}
			for _, g := range gotG {
				for k, v := range g.vals {
					if want, ok := first[v]; (ok && g.idx[k] != want) || (!ok && g.idx[k] != -1) {
						t.Fatalf("group %q value %q: user index %d", g.dn, v, g.idx[k])
					}
				}
			}
			gotU, gotG = withoutSpans(gotU, gotG)
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

// withoutSpans clears the record spans decodeState sets.
func withoutSpans(us []user, gs []group) ([]user, []group) {
	for i := range us {
		us[i].at, us[i].end = 0, 0
	}
	for i := range gs {
		gs[i].at, gs[i].dig, gs[i].end, gs[i].idx = 0, 0, 0, nil
	}
	return us, gs
}

// TestStateCopiesUnchangedRecords: the encoding that copies the stored
// records of the entries that did not change is byte for byte the one
// that encodes every entry, after any mix of the edits an incremental
// read makes (and some it does not, as reordering).
func TestStateCopiesUnchangedRecords(t *testing.T) {
	users, groups := stateFixture(3000, 30, 100)
	ss := syncState{users: []byte("rid=000,csn=1")}
	stored, err := encodeState(users, groups, ss, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(u user) user { u.at, u.end = 0, 0; return u }
	worst := 0.0
	defer func() { t.Logf("largest patch: %.3f of its state", worst) }()
	for seed := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seed), 13))
		old, oldGroups, _, err := decodeState(stored)
		if err != nil {
			t.Fatal(err)
		}
		us, gs := slices.Clone(old), slices.Clone(oldGroups)
		var did []string
		for e := range rng.IntN(12) {
			i := rng.IntN(len(us))
			switch k := rng.IntN(11); k {
			case 0: // a changed entry read from the server
				u := fresh(us[i])
				u.display = fmt.Sprint("changed ", e)
				us[i] = u
			case 1: // deleted
				us = slices.Delete(us, i, i+1)
			case 2: // new
				us = slices.Insert(us, i, user{dn: fmt.Sprintf("uid=new%d,ou=people,dc=example,dc=org", e), id: fmt.Sprint("new-", e), name: "new", email: "new@example.org"})
			case 3: // its disabled_filter verdict re-derived in place
				us[i].filterOff = !us[i].filterOff
			case 4: // enterprise attributes gained, changed or lost
				u := fresh(us[i])
				switch {
				case u.extra == nil:
					u.extra = &extra{title: "Gained"}
				case rng.IntN(2) == 0:
					u.extra = nil
				default:
					x := *u.extra
					x.department = "Changed"
					u.extra = &x
				}
				us[i] = u
			case 5: // renamed
				u := fresh(us[i])
				u.dn = "uid=renamed" + fmt.Sprint(e) + ",ou=people,dc=example,dc=org"
				us[i] = u
			case 6: // a new digest (snapshot sets every one)
				us[i].digest ^= 0xff
			case 7: // reordered
				j := rng.IntN(len(us))
				us[i], us[j] = us[j], us[i]
			case 8: // a changed group
				g := &gs[rng.IntN(len(gs))]
				c := *g
				c.at, c.dig, c.end = 0, 0, 0
				c.vals = append(slices.Clone(c.vals), us[i].dn)
				*g = c
			case 9: // a group deleted, or its digest changed
				if j := rng.IntN(len(gs)); rng.IntN(2) == 0 {
					gs = slices.Delete(gs, j, j+1)
				} else {
					gs[j].digest++
				}
			case 10: // the first user changed
				u := fresh(us[0])
				u.given = "First"
				us[0] = u
			default:
				t.Fatal(k)
			}
			did = append(did, fmt.Sprint(e))
		}
		got, patch, _, err := encodeStatePatch(us, gs, ss, nil, newStateBase(stored, old, oldGroups), false)
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeState(us, gs, ss, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d (%d edits): the copying encoder wrote %d bytes, encoding every entry %d, and they differ", seed, len(did), len(got), len(want))
		}
		// The patch gives the same state from the stored one, and holds
		// little more than the records that were encoded again.
		applied, err := statepatch.Apply(nil, stored, patch)
		if err != nil || !bytes.Equal(applied, want) {
			t.Fatalf("seed %d (%v): the state patch does not give the new state (err %v)", seed, did, err)
		}
		if len(patch) > len(want)/10 {
			t.Fatalf("seed %d (%v): a patch of %d bytes for a state of %d", seed, did, len(patch), len(want))
		}
		worst = max(worst, float64(len(patch))/float64(len(want)))
		// What a daemon keeps of the new state is what decoding it gives.
		_, _, kept, err := encodeStatePatch(us, gs, ss, nil, newStateBase(stored, old, oldGroups), true)
		if err != nil {
			t.Fatal(err)
		}
		du, dg, _, err := decodeState(want)
		if err != nil {
			t.Fatal(err)
		}
		ku, kg := kept.decoded()
		if kept.id != statepatch.IDOf(want) || !reflect.DeepEqual(ku, du) || !reflect.DeepEqual(kg, dg) {
			for i := range du {
				if i < len(ku) && !reflect.DeepEqual(ku[i], du[i]) {
					t.Logf("user %d: kept %+v\ndecoded %+v", i, ku[i], du[i])
					break
				}
			}
			for i := range dg {
				if i < len(kg) && !reflect.DeepEqual(kg[i], dg[i]) {
					t.Logf("group %d: kept %+v\ndecoded %+v", i, kg[i], dg[i])
					break
				}
			}
			t.Fatalf("seed %d (%v): the kept decoded state is not what decoding the state gives", seed, did)
		}
	}
	// The records are copied indeed: a decoded entry edited in place
	// against the rule (a changed one is a new entry) keeps its stored
	// bytes.
	old, oldGroups, _, err := decodeState(stored)
	if err != nil {
		t.Fatal(err)
	}
	old[5].display, oldGroups[3].name = "edited in place", "edited in place"
	got, err := encodeState(old, oldGroups, ss, nil, newStateBase(stored, old, oldGroups))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, stored) {
		t.Fatal("the unchanged records were encoded again, not copied")
	}
}

func BenchmarkState(b *testing.B) {
	users, groups := stateFixture(100000, 1000, 200)
	enc, err := encodeState(users, groups, syncState{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("100k users, 1k groups x 200: %d bytes", len(enc))
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeState(users, groups, syncState{}, nil, nil); err != nil {
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
