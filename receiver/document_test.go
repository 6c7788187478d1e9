package receiver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// Each document attribute round-trips: POST, GET, PATCH (a new value at
// its path), GET, on every backend.
func TestAttributeRoundTrip(t *testing.T) {
	cases := []struct {
		name        string
		path        string // PATCH path, "/"-separated lookup path in the answer
		lookup      string
		posted      any
		patched     any
		patchLookup any // what the lookup holds after the PATCH (nil: patched)
	}{
		{"name.formatted", "name.formatted", "name/formatted", "A B", "B A", nil},
		{"name.middleName", "name.middleName", "name/middleName", "C", "D", nil},
		{"name.honorificPrefix", "name.honorificPrefix", "name/honorificPrefix", "Dr.", "Prof.", nil},
		{"name.honorificSuffix", "name.honorificSuffix", "name/honorificSuffix", "Jr.", "Sr.", nil},
		{"nickName", "nickName", "nickName", "Nick", "Nico", nil},
		{"profileUrl", "profileUrl", "profileUrl", "https://a.example/u", "https://b.example/u", nil},
		{"title", "title", "title", "Engineer", "Manager", nil},
		{"userType", "userType", "userType", "Employee", "Contractor", nil},
		{"preferredLanguage", "preferredLanguage", "preferredLanguage", "en", "fr", nil},
		{"locale", "locale", "locale", "en-US", "fr-FR", nil},
		{"timezone", "timezone", "timezone", "UTC", "Europe/Paris", nil},
		{"phoneNumbers", `phoneNumbers[type eq "work"].value`, "phoneNumbers/0/value", []any{map[string]any{"type": "work", "value": "1", "primary": true}}, "2", nil},
		{"ims", `ims[type eq "xmpp"].value`, "ims/0/value", []any{map[string]any{"type": "xmpp", "value": "a@x"}}, "b@x", nil},
		{"photos", `photos[type eq "photo"].value`, "photos/0/value", []any{map[string]any{"type": "photo", "value": "https://p/1"}}, "https://p/2", nil},
		{"addresses", `addresses[type eq "work"].country`, "addresses/0/country", []any{map[string]any{"type": "work", "country": "US", "primary": true}}, "CA", nil},
		{"roles", `roles[value eq "a"].display`, "roles/0/display", []any{map[string]any{"value": "a", "display": "A"}}, "AA", nil},
		{"entitlements", `entitlements[value eq "e"].type`, "entitlements/0/type", []any{map[string]any{"value": "e"}}, "license", nil},
		{"x509Certificates", "x509Certificates", "x509Certificates/0/value", []any{map[string]any{"value": "MIIB"}}, []any{map[string]any{"value": "MIIC"}}, "MIIC"},
		{"employeeNumber", enterprise + ":employeeNumber", enterprise + "/employeeNumber", "1", "2", nil},
		{"costCenter", enterprise + ":costCenter", enterprise + "/costCenter", "c1", "c2", nil},
		{"organization", enterprise + ":organization", enterprise + "/organization", "o1", "o2", nil},
		{"division", enterprise + ":division", enterprise + "/division", "d1", "d2", nil},
		{"department", enterprise + ":department", enterprise + "/department", "p1", "p2", nil},
		{"manager", enterprise + ":manager", enterprise + "/manager", map[string]any{"value": "m1", "$ref": "../Users/m1", "displayName": "M"},
			map[string]any{"value": "m2"}, map[string]any{"value": "m2", "$ref": "../Users/m1", "displayName": "M"}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, _ := b.cfg(t)
			e := newEnv(t, cfg, receiver.Options{})
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("u%d@example.org", i)}
					top, sub, nested := strings.Cut(c.lookup, "/")
					switch {
					case top == enterprise:
						body[enterprise] = map[string]any{sub: c.posted}
					case nested && top == "name":
						body["name"] = map[string]any{sub: c.posted}
					default:
						body[top] = c.posted
					}
					raw, _ := json.Marshal(body)
					created := e.do("POST", "/Users", nil, raw)
					if created.status != 201 {
						t.Fatalf("POST = %d: %s", created.status, created.raw)
					}
					id := created.body["id"].(string)
					want := c.posted
					if l, ok := want.([]any); ok && strings.Count(c.lookup, "/") == 2 {
						want = l[0].(map[string]any)[strings.Split(c.lookup, "/")[2]]
					}
					got, _ := lookup(e.do("GET", "/Users/"+id, nil, nil).body, c.lookup)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("GET after POST: %s = %#v, want %#v", c.lookup, got, want)
					}
					patch, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
						"Operations": []any{map[string]any{"op": "replace", "path": c.path, "value": c.patched}}})
					if r := e.do("PATCH", "/Users/"+id, nil, patch); r.status != 200 {
						t.Fatalf("PATCH = %d: %s", r.status, r.raw)
					}
					want = c.patchLookup
					if want == nil {
						want = c.patched
					}
					got, _ = lookup(e.do("GET", "/Users/"+id, nil, nil).body, c.lookup)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("GET after PATCH: %s = %#v, want %#v", c.lookup, got, want)
					}
				})
			}
		})
	}
}

// A document too large is refused, on create and on PATCH, and nothing is
// stored.
func TestDocumentBounds(t *testing.T) {
	cfg, _ := backends[0].cfg(t)
	e := newEnv(t, cfg, receiver.Options{MaxBodyBytes: 4 << 20})
	phones := make([]any, 10_000)
	for i := range phones {
		phones[i] = map[string]any{"value": fmt.Sprintf("+1 555 %06d", i), "type": "work"}
	}
	raw, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "big@example.org", "phoneNumbers": phones})
	if r := e.do("POST", "/Users", nil, raw); r.status != 400 && r.status != 413 {
		t.Fatalf("10,000 phone numbers: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", `/Users?filter=userName eq "big@example.org"`, nil, nil); r.body["totalResults"] != float64(0) {
		t.Fatalf("the refused user was stored: %s", r.raw)
	}
	// 100 values of 1,000 bytes each in four attributes: within the
	// per-attribute bounds, over the document's.
	long := strings.Repeat("x", 1000)
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "wide@example.org"}
	for _, attr := range []string{"phoneNumbers", "ims", "roles", "entitlements"} {
		vals := make([]any, 100)
		for i := range vals {
			vals[i] = map[string]any{"value": fmt.Sprint(i, long)}
		}
		body[attr] = vals
	}
	raw, _ = json.Marshal(body)
	if r := e.do("POST", "/Users", nil, raw); r.status != 413 {
		t.Fatalf("a 400 kB document: %d %s", r.status, r.raw)
	}
}

// A SCIM-deleted member is deprovisioned (a tombstone) in the admin
// listing until purged, and a re-POST with its externalId revives the
// same member (issue 14's rule) with the new body's attributes.
func TestDeletedMemberIsDeprovisionedAndRevives(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, _ := b.cfg(t)
			e := newEnv(t, cfg, receiver.Options{})
			post := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"gone@example.org","externalId":"x-1","title":"%s"}`
			created := e.do("POST", "/Users", nil, []byte(fmt.Sprintf(post, "Before")))
			id, _ := created.body["id"].(string)
			if created.status != 201 || e.do("DELETE", "/Users/"+id, nil, nil).status != 204 {
				t.Fatalf("create and delete: %d %s", created.status, created.raw)
			}
			if r := e.do("GET", "/Users/"+id, nil, nil); r.status != 404 {
				t.Fatalf("GET of a deleted user = %d", r.status)
			}
			listed, err := e.st.Members(context.Background(), "acme", store.MemberFilter{Status: orgsync.StatusDeprovisioned})
			if err != nil || len(listed) != 1 || listed[0].ID != id || listed[0].Status != orgsync.StatusDeprovisioned || listed[0].DeletedAt == nil {
				t.Fatalf("deprovisioned members = %+v, %v; want the tombstone %s", listed, err, id)
			}
			again := e.do("POST", "/Users", nil, []byte(fmt.Sprintf(post, "After")))
			if again.status != 201 || again.body["id"] != id || again.body["title"] != "After" {
				t.Fatalf("re-POST = %d %s; want member %s revived with title After", again.status, again.raw, id)
			}
		})
	}
}

// TestReplaceOfMissingSubAttributeAdds: a replace (or add) of a
// sub-attribute path without a filter, on a user who has no element of
// that attribute yet, adds one element holding it (RFC 7644 §3.5.2.3: a
// replace of an attribute that does not exist is an add), on every backend.
func TestReplaceOfMissingSubAttributeAdds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, _ := b.cfg(t)
			e := newEnv(t, cfg, receiver.Options{})
			for i, op := range []string{"replace", "Add"} {
				created := e.do("POST", "/Users", nil, []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"np%d@example.org"}`, i)))
				if created.status != 201 {
					t.Fatalf("POST = %d: %s", created.status, created.raw)
				}
				id := created.body["id"].(string)
				patch := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":%q,"path":"phoneNumbers.value","value":"+1 555 0100"}]}`, op)
				if r := e.do("PATCH", "/Users/"+id, nil, []byte(patch)); r.status != 200 {
					t.Fatalf("%s phoneNumbers.value = %d: %s", op, r.status, r.raw)
				}
				got, _ := lookup(e.do("GET", "/Users/"+id, nil, nil).body, "phoneNumbers/0/value")
				if got != "+1 555 0100" {
					t.Errorf("%s: phoneNumbers[0].value = %#v after the PATCH", op, got)
				}
			}
		})
	}
}
