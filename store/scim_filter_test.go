package store_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestSCIMFilterMatchesReference runs random filters through the SQL
// translation and through a plain Go evaluator of the same semantics: the
// store must return exactly the members the reference selects, never more
// (a widened filter) and never fewer.
func TestSCIMFilterMatchesReference(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		rng := rand.New(rand.NewPCG(7, 11))
		members := seedRandomMembers(t, s, rng, 40)
		for i := 0; i < 400; i++ {
			f := randomFilter(rng, 3)
			want := map[string]bool{}
			for _, m := range members {
				if evalFilter(&f, &m) {
					want[m.ID] = true
				}
			}
			got, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{Filter: &f, StartIndex: 1, Count: 1000})
			if err != nil {
				t.Fatalf("filter %s: %v", show(&f), err)
			}
			gotIDs := map[string]bool{}
			for _, m := range got {
				gotIDs[m.ID] = true
			}
			if total != len(want) || len(gotIDs) != len(want) {
				t.Fatalf("filter %s: store %d (total %d), reference %d", show(&f), len(gotIDs), total, len(want))
			}
			for id := range want {
				if !gotIDs[id] {
					t.Fatalf("filter %s: store misses %s", show(&f), id)
				}
			}
		}
	})
}

var (
	// Non-ASCII letters (SQLite's and a C-locale PostgreSQL's LOWER fold
	// ASCII only; Go folds them) and spaces (a filter value is not trimmed).
	letters = []string{"a", "b", "ab", "ba", "x", "_", "%", "A", "B", "É", "é", " ", "Ö", "\u212a"}
	types   = []string{"work", "home", "", "Work"}
)

func word(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(letters[rng.IntN(len(letters))])
	}
	return b.String()
}

func seedRandomMembers(t *testing.T, s *store.Store, rng *rand.Rand, n int) []orgsync.Member {
	t.Helper()
	var out []orgsync.Member
	for i := 0; i < n; i++ {
		m := orgsync.Member{UserName: fmt.Sprintf("%s%d", word(rng, 1+rng.IntN(3)), i), ExternalID: word(rng, rng.IntN(3)),
			GivenName: word(rng, rng.IntN(3)), DisplayName: word(rng, rng.IntN(2))}
		for j := rng.IntN(4); j > 0; j-- {
			m.Emails = append(m.Emails, orgsync.Email{Value: word(rng, 1+rng.IntN(2)) + "@" + word(rng, 1), Type: types[rng.IntN(len(types))], Primary: rng.IntN(3) == 0})
		}
		m.Attributes = randomDoc(rng)
		created := mustCreate(t, s, "acme", m)
		if rng.IntN(3) == 0 {
			var err error
			created, err = s.SCIMUpdateMember(ctx, "acme", created.ID, 0, func(m *orgsync.Member) error { m.Status = orgsync.StatusDeprovisioned; return nil })
			if err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, created)
	}
	return out
}

var (
	stringAttrs = []string{orgsync.AttrUserName, orgsync.AttrExternalID, orgsync.AttrDisplayName, orgsync.AttrGivenName, orgsync.AttrID}
	stringOps   = []orgsync.FilterOp{orgsync.FilterEq, orgsync.FilterNe, orgsync.FilterCo, orgsync.FilterSw, orgsync.FilterEw,
		orgsync.FilterGt, orgsync.FilterGe, orgsync.FilterLt, orgsync.FilterLe, orgsync.FilterPresent}
)

func randomFilter(rng *rand.Rand, depth int) orgsync.Filter {
	if depth > 0 && rng.IntN(3) == 0 {
		switch rng.IntN(3) {
		case 0:
			return orgsync.Filter{Op: orgsync.FilterNot, Children: []orgsync.Filter{randomFilter(rng, depth-1)}}
		case 1:
			return orgsync.Filter{Op: orgsync.FilterAnd, Children: []orgsync.Filter{randomFilter(rng, depth-1), randomFilter(rng, depth-1)}}
		default:
			return orgsync.Filter{Op: orgsync.FilterOr, Children: []orgsync.Filter{randomFilter(rng, depth-1), randomFilter(rng, depth-1)}}
		}
	}
	switch rng.IntN(8) {
	case 5, 6:
		return randomDocTerm(rng)
	case 7:
		sub := randomAddressTerm(rng)
		if rng.IntN(2) == 0 {
			sub = orgsync.Filter{Op: orgsync.FilterAnd, Children: []orgsync.Filter{sub, randomAddressTerm(rng)}}
		}
		return orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrDocument, Path: []string{"addresses"}, Children: []orgsync.Filter{sub}}
	case 0:
		return orgsync.Filter{Op: []orgsync.FilterOp{orgsync.FilterEq, orgsync.FilterNe}[rng.IntN(2)], Attr: orgsync.AttrActive, Value: rng.IntN(2) == 0}
	case 1, 2:
		sub := randomEmailTerm(rng)
		if rng.IntN(2) == 0 {
			sub = orgsync.Filter{Op: orgsync.FilterAnd, Children: []orgsync.Filter{sub, randomEmailTerm(rng)}}
		}
		return orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrEmails, Children: []orgsync.Filter{sub}}
	}
	return orgsync.Filter{Op: stringOps[rng.IntN(len(stringOps))], Attr: stringAttrs[rng.IntN(len(stringAttrs))], Value: word(rng, rng.IntN(3))}
}

func randomEmailTerm(rng *rand.Rand) orgsync.Filter {
	switch rng.IntN(3) {
	case 0:
		return orgsync.Filter{Op: orgsync.FilterEq, Attr: orgsync.SubPrimary, Value: rng.IntN(2) == 0}
	case 1:
		return orgsync.Filter{Op: stringOps[rng.IntN(len(stringOps))], Attr: orgsync.SubType, Value: types[rng.IntN(len(types))]}
	}
	return orgsync.Filter{Op: stringOps[rng.IntN(len(stringOps))], Attr: orgsync.SubValue, Value: word(rng, rng.IntN(3))}
}

// evalFilter is the reference semantics: case-insensitive attributes
// compare folded, id and externalId exactly; pr means a non-empty value.
func evalFilter(f *orgsync.Filter, m *orgsync.Member) bool {
	switch f.Op {
	case orgsync.FilterAnd:
		return evalFilter(&f.Children[0], m) && evalFilter(&f.Children[1], m)
	case orgsync.FilterOr:
		return evalFilter(&f.Children[0], m) || evalFilter(&f.Children[1], m)
	case orgsync.FilterNot:
		return !evalFilter(&f.Children[0], m)
	case orgsync.FilterAny:
		if f.Attr == orgsync.AttrDocument {
			return evalDocAny(f, m)
		}
		for _, e := range m.Emails {
			if evalEmail(&f.Children[0], e) {
				return true
			}
		}
		return false
	}
	switch f.Attr {
	case orgsync.AttrDocument:
		var doc map[string]any
		_ = json.Unmarshal(m.Attributes, &doc)
		return evalDocTerm(f, doc)
	case orgsync.AttrActive:
		return (m.Status != orgsync.StatusDeprovisioned) == (f.Op == orgsync.FilterEq) == f.Value.(bool)
	case orgsync.AttrUserName:
		return cmpText(f, orgsync.Fold(m.UserName), true)
	case orgsync.AttrExternalID:
		return cmpText(f, m.ExternalID, false)
	case orgsync.AttrID:
		return cmpText(f, m.ID, false)
	case orgsync.AttrDisplayName:
		return cmpText(f, strings.ToLower(m.DisplayName), true)
	case orgsync.AttrGivenName:
		return cmpText(f, strings.ToLower(m.GivenName), true)
	}
	panic("unknown attribute " + f.Attr)
}

func evalEmail(f *orgsync.Filter, e orgsync.Email) bool {
	switch f.Op {
	case orgsync.FilterAnd:
		return evalEmail(&f.Children[0], e) && evalEmail(&f.Children[1], e)
	}
	switch f.Attr {
	case orgsync.SubPrimary:
		return e.Primary == f.Value.(bool)
	case orgsync.SubType:
		return cmpText(f, strings.ToLower(e.Type), true)
	}
	return cmpText(f, orgsync.Fold(e.Value), true)
}

func cmpText(f *orgsync.Filter, have string, fold bool) bool {
	if f.Op == orgsync.FilterPresent {
		return have != ""
	}
	want := f.Value.(string)
	if fold {
		want = strings.ToLower(want) // lower-cased, never trimmed
	}
	switch f.Op {
	case orgsync.FilterEq:
		return have == want
	case orgsync.FilterNe:
		return have != want
	case orgsync.FilterCo:
		return strings.Contains(have, want)
	case orgsync.FilterSw:
		return strings.HasPrefix(have, want)
	case orgsync.FilterEw:
		return strings.HasSuffix(have, want)
	case orgsync.FilterGt:
		return have > want
	case orgsync.FilterGe:
		return have >= want
	case orgsync.FilterLt:
		return have < want
	case orgsync.FilterLe:
		return have <= want
	}
	panic("unknown operator " + string(f.Op))
}

// TestSCIMFilterFoldsUnicodeAndKeepsSpaces: case-insensitive attributes
// fold non-ASCII letters on both backends (SQLite's LOWER folds ASCII
// only, as does PostgreSQL's under the C locale), and a filter value is
// compared as sent, spaces included (`co " "` once matched everyone).
func TestSCIMFilterFoldsUnicodeAndKeepsSpaces(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		emile := mustCreate(t, s, "acme", orgsync.Member{UserName: "ÉMILE@example.org", ExternalID: "e", DisplayName: "ÉMILE ZOLA",
			GivenName: "Émile", FamilyName: "ZOLA", Emails: []orgsync.Email{{Value: "émile@example.org", Type: "Büro"}}})
		solo := mustCreate(t, s, "acme", orgsync.Member{UserName: "solo@example.org", ExternalID: "s", DisplayName: "Solo"})
		for _, tc := range []struct {
			attr  string
			op    orgsync.FilterOp
			value string
			want  []string
		}{
			{orgsync.AttrDisplayName, orgsync.FilterEq, "Émile Zola", []string{emile.ID}},
			{orgsync.AttrDisplayName, orgsync.FilterEq, "émile zola", []string{emile.ID}},
			{orgsync.AttrDisplayName, orgsync.FilterSw, "émile", []string{emile.ID}},
			{orgsync.AttrGivenName, orgsync.FilterEq, "ÉMILE", []string{emile.ID}},
			{orgsync.AttrFamilyName, orgsync.FilterCo, "zol", []string{emile.ID}},
			{orgsync.AttrUserName, orgsync.FilterEq, "émile@EXAMPLE.org", []string{emile.ID}},
			{orgsync.AttrDisplayName, orgsync.FilterCo, " ", []string{emile.ID}},
			{orgsync.AttrDisplayName, orgsync.FilterSw, " ", nil},
			{orgsync.AttrDisplayName, orgsync.FilterEw, " ", nil},
			{orgsync.AttrUserName, orgsync.FilterCo, " ", nil},
			{orgsync.AttrDisplayName, orgsync.FilterEq, " Solo", nil},
			{orgsync.AttrDisplayName, orgsync.FilterEq, "solo", []string{solo.ID}},
		} {
			f := orgsync.Filter{Op: tc.op, Attr: tc.attr, Value: tc.value}
			got, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{Filter: &f, StartIndex: 1, Count: 10})
			if err != nil {
				t.Fatalf("%s: %v", show(&f), err)
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if total != len(tc.want) || fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("%s: got %v (total %d), want %v", show(&f), ids, total, tc.want)
			}
		}
		email := orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrEmails, Children: []orgsync.Filter{{Op: orgsync.FilterEq, Attr: orgsync.SubType, Value: "büro"}}}
		if got, _, err := s.SCIMMembers(ctx, "acme", orgsync.Query{Filter: &email, StartIndex: 1, Count: 10}); err != nil || len(got) != 1 || got[0].ID != emile.ID {
			t.Errorf("%s: got %v, %v; want émile", show(&email), got, err)
		}
	})
}

func show(f *orgsync.Filter) string {
	switch f.Op {
	case orgsync.FilterAnd, orgsync.FilterOr:
		return "(" + show(&f.Children[0]) + " " + string(f.Op) + " " + show(&f.Children[1]) + ")"
	case orgsync.FilterNot:
		return "not(" + show(&f.Children[0]) + ")"
	case orgsync.FilterAny:
		return f.Attr + fmt.Sprint(f.Path) + "[" + show(&f.Children[0]) + "]"
	}
	if f.Attr == orgsync.AttrDocument {
		return fmt.Sprintf("%v (exact %v) %s %q", f.Path, f.CaseExact, f.Op, fmt.Sprint(f.Value))
	}
	return fmt.Sprintf("%s %s %q", f.Attr, f.Op, fmt.Sprint(f.Value))
}
