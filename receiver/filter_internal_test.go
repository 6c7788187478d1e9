package receiver

import (
	"reflect"
	"testing"

	filter "github.com/scim2/filter-parser/v2"
)

var simpleSeeds = []string{
	`userName eq "alice@example.org"`, `userName Eq "x"`, `USERNAME EQ "x"`, `name.givenName sw "Al"`,
	`externalId eq "a\"b"`, `displayName eq "and or not"`, `userName eq ""`, `userName xx "a"`,
	`userName eq "x" and active eq true`, `emails[type eq "work"]`, `not (userName eq "x")`,
	`userName  eq "x"`, ` userName eq "x"`, `userName eq "x" `, `a-b_c eq "é"`, `userName eq "\u0041"`,
	`userName eq "bad\q"`, `userName eq "x"y"`, `name.a.b eq "x"`, `1userName eq "x"`, `userName pr`,
	`meta.lastModified gt "2026-01-01T00:00:00Z"`, `userName eq "tab	inside"`,
	`emails[type eq "work"].value eq "a@b.c"`, `emails[Type EQ "work"].Value Sw "a"`, `emails[type xx "work"].value eq "a"`,
	`emails[type eq "work"].value eq "a" and userName eq "b"`, `emails[type eq "a\"]"].value eq "b"`,
}

// TestSimpleFilterMatchesParser: the fast path accepts only what the
// general parser accepts, with the same result.
func TestSimpleFilterMatchesParser(t *testing.T) {
	for _, raw := range simpleSeeds {
		t.Run(raw, func(t *testing.T) { checkSimple(t, raw) })
	}
}

func checkSimple(t *testing.T, raw string) {
	fast, _ := simpleFilter(raw)
	if fast == nil {
		return
	}
	rewritten, err := rewriteValuePaths(raw)
	if err != nil {
		t.Fatalf("fast path accepted %q, the rewrite refuses it: %v", raw, err)
	}
	slow, err := filter.ParseFilter([]byte(rewritten))
	if err != nil {
		t.Fatalf("fast path accepted %q, the parser refuses it: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast path %#v, parser %#v", fast, slow)
	}
}

func FuzzSimpleFilter(f *testing.F) {
	for _, s := range simpleSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		defer func() { _ = recover() }() // a parser panic is not the fast path's business
		checkSimple(t, raw)
	})
}
