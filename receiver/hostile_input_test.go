package receiver_test

import (
	"strings"
	"testing"

	"github.com/orgsync/orgsync/receiver"
)

// TestDeepFilterRefusedBeforeParsing: a filter nesting parentheses or
// brackets more than 10 levels deep is 400 invalidFilter, decided before
// the parser runs (2,000 nested parentheses fit in the 4 KiB filter limit
// and cost the parser 0.4 s of CPU each; they used to be answered 200).
func TestDeepFilterRefusedBeforeParsing(t *testing.T) {
	e := sqliteEnv(t, receiver.Options{})
	if r := e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x"}`)); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	nest := func(n int, open, inner, close string) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	for _, tc := range []struct {
		name, filter string
		status       int
	}{
		{"10 parentheses", nest(10, "(", `userName eq "x"`, ")"), 200},
		{"11 parentheses", nest(11, "(", `userName eq "x"`, ")"), 400},
		{"2000 parentheses", nest(2000, "(", `userName eq "x"`, ")"), 400},
		{"not ( nested", nest(11, "not (", `userName eq "x"`, ")"), 400},
		{"brackets count too", nest(6, "(", `emails[`+nest(5, "(", `value eq "x"`, ")")+`]`, ")"), 400},
		{"parentheses inside a string do not count", `userName eq "` + strings.Repeat("(", 50) + `"`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/Users?filter=", "/Groups?filter="} {
				f := tc.filter
				if path == "/Groups?filter=" {
					f = strings.ReplaceAll(strings.ReplaceAll(f, "userName", "displayName"), "emails[", "members[")
				}
				r := e.do("GET", path+f, nil, nil)
				if r.status != tc.status {
					t.Fatalf("GET %s…: %d, want %d: %.300s", path, r.status, tc.status, r.raw)
				}
				if tc.status == 400 && r.body["scimType"] != "invalidFilter" {
					t.Fatalf("GET %s…: scimType %v, want invalidFilter", path, r.body["scimType"])
				}
			}
		})
	}
	search := e.do("POST", "/Users/.search", nil, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"`+
		strings.ReplaceAll(nest(2000, "(", `userName eq "x"`, ")"), `"`, `\"`)+`"}`))
	if search.status != 400 || search.body["scimType"] != "invalidFilter" {
		t.Fatalf("POST .search with a deep filter: %d %s", search.status, search.raw)
	}
}

// TestRemoveMembersWithNullValueRefused: PATCH remove members with
// "value": null is 400 invalidValue and the group keeps its members (it
// was read as a remove without value, which empties the group). Without
// a value, the RFC's remove-all still works.
func TestRemoveMembersWithNullValueRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, _ := b.cfg(t)
			e := newEnv(t, cfg, receiver.Options{})
			u := e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.org"}`))
			g := e.do("POST", "/Groups", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng","members":[{"value":"`+
				u.body["id"].(string)+`"}]}`))
			if u.status != 201 || g.status != 201 {
				t.Fatalf("setup: %d %s / %d %s", u.status, u.raw, g.status, g.raw)
			}
			gid := g.body["id"].(string)
			patch := func(op string) response {
				return e.do("PATCH", "/Groups/"+gid, nil, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+op+`]}`))
			}
			for _, op := range []string{`{"op":"remove","path":"members","value":null}`, `{"op":"Remove","path":"members","value":null}`} {
				r := patch(op)
				if r.status != 400 || r.body["scimType"] != "invalidValue" {
					t.Fatalf("%s: %d %s, want 400 invalidValue", op, r.status, r.raw)
				}
				if _, groups := e.observed(); strings.Join(groups["eng"], ",") != "alice@example.org" {
					t.Fatalf("%s: eng now holds %v", op, groups["eng"])
				}
			}
			if r := patch(`{"op":"remove","path":"members"}`); r.status != 200 && r.status != 204 {
				t.Fatalf("remove members without a value: %d %s", r.status, r.raw)
			}
			if _, groups := e.observed(); len(groups["eng"]) != 0 {
				t.Fatalf("remove members without a value left %v", groups["eng"])
			}
		})
	}
}
