package receiver_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsync/orgsync/receiver"
)

func sqliteEnv(t *testing.T, opts receiver.Options) *env {
	cfg, _ := backends[0].cfg(t)
	return newEnv(t, cfg, opts)
}

// TestBadInput covers the "Bad input" list of the receiver issue: each
// request gets a SCIM error with the right status and scimType (never a
// 5xx), and the store is unchanged afterwards.
func TestBadInput(t *testing.T) {
	e := sqliteEnv(t, receiver.Options{})
	alice := e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.org"}`))
	group := e.do("POST", "/Groups", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng"}`))
	if alice.status != 201 || group.status != 201 {
		t.Fatalf("setup: %d %s / %d %s", alice.status, alice.raw, group.status, group.raw)
	}
	uid, gid := alice.body["id"].(string), group.body["id"].(string)
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@example.org"%s}`
	patch := func(ops string) []byte {
		return []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`)
	}
	nested := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	huge := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","emails":[` + strings.TrimSuffix(strings.Repeat("1,", 20000), ",") + `]}`
	big := fmt.Sprintf(user, `,"displayName":"`+strings.Repeat("x", 1<<20)+`"`)
	filterOf := func(f string) string { return "/Users?filter=" + f }

	tests := []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		body     string
		status   int
		scimType string
	}{
		{"invalid JSON", "POST", "/Users", nil, `{"schemas":`, 400, "invalidSyntax"},
		{"JSON array instead of object", "POST", "/Users", nil, `[1,2]`, 400, "invalidSyntax"},
		{"empty body", "POST", "/Users", nil, ``, 400, "invalidSyntax"},
		{"two JSON values", "POST", "/Users", nil, fmt.Sprintf(user, "") + `{}`, 400, "invalidSyntax"},
		{"create without schemas", "POST", "/Users", nil, `{"userName":"x@example.org"}`, 400, "invalidSyntax"},
		{"create whose schemas lack the core schema", "POST", "/Users", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x"}`, 400, "invalidValue"},
		{"group create whose schemas lack the core schema", "POST", "/Groups", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"x"}`, 400, "invalidValue"},
		{"create without userName", "POST", "/Users", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`, 400, "invalidValue"},
		{"userName not a string", "POST", "/Users", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":42}`, 400, "invalidValue"},
		{"active not a boolean", "POST", "/Users", nil, fmt.Sprintf(user, `,"active":"maybe"`), 400, "invalidValue"},
		{"NUL in a string", "POST", "/Users", nil, fmt.Sprintf(user, `,"displayName":"a\u0000b"`), 400, "invalidValue"},
		{"attribute over 1 KiB", "POST", "/Users", nil, fmt.Sprintf(user, `,"displayName":"`+strings.Repeat("y", 1025)+`"`), 400, "invalidValue"},
		{"too many emails", "POST", "/Users", nil, fmt.Sprintf(user, `,"emails":[`+strings.TrimSuffix(strings.Repeat(`{"value":"a@b"},`, 101), ",")+`]`), 400, "invalidValue"},
		{"two primary emails", "POST", "/Users", nil, fmt.Sprintf(user, `,"emails":[{"value":"a@example.org","primary":true},{"value":"b@example.org","primary":"True"}]`), 400, "invalidValue"},
		{"body over 1 MiB", "POST", "/Users", nil, big, 413, ""},
		{"PATCH body over 1 MiB", "PATCH", "/Groups/" + gid, nil, big, 413, ""},
		{"deeply nested body", "POST", "/Users", nil, nested, 400, "invalidSyntax"},
		{"huge array", "POST", "/Users", nil, huge, 400, "invalidValue"},
		{"wrong content type", "POST", "/Users", map[string]string{"Content-Type": "text/plain"}, fmt.Sprintf(user, ""), 415, ""},
		{"duplicate userName", "POST", "/Users", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ALICE@example.org"}`, 409, "uniqueness"},
		{"duplicate group name", "POST", "/Groups", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ENG"}`, 409, "uniqueness"},
		{"group member that does not exist", "POST", "/Groups", nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"x","members":[{"value":"nope"}]}`, 400, "invalidValue"},

		{"filter syntax", "GET", filterOf(`userName eq`), nil, "", 400, "invalidFilter"},
		{"filter unknown attribute", "GET", filterOf(`favouriteColour eq "x"`), nil, "", 400, "invalidFilter"},
		{"filter unquoted value", "GET", filterOf(`externalId eq jyoung`), nil, "", 400, "invalidFilter"},
		{"filter gt on a boolean", "GET", filterOf(`active gt true`), nil, "", 400, "invalidFilter"},
		{"filter bad dateTime", "GET", filterOf(`meta.lastModified gt "yesterday"`), nil, "", 400, "invalidFilter"},
		{"filter number on a string", "GET", filterOf(`userName eq 5`), nil, "", 400, "invalidFilter"},
		{"filter eq null", "GET", filterOf(`userName eq null`), nil, "", 400, "invalidFilter"},
		{"filter unclosed bracket", "GET", filterOf(`emails[type eq "work"`), nil, "", 400, "invalidFilter"},
		{"filter value path with or and sub-attribute", "GET", filterOf(`emails[type eq "work" or type eq "home"].value eq "x"`), nil, "", 400, "invalidFilter"},
		{"filter NUL", "GET", filterOf(`userName eq "a%00b"`), nil, "", 400, "invalidFilter"},
		{"filter too long", "GET", filterOf(`userName eq "` + strings.Repeat("a", 5000) + `"`), nil, "", 400, "invalidFilter"},
		{"filter group attribute on users", "GET", filterOf(`members[value eq "x"]`), nil, "", 400, "invalidFilter"},
		{"filter user attribute on groups", "GET", `/Groups?filter=userName eq "x"`, nil, "", 400, "invalidFilter"},
		{"filter unknown operator", "GET", filterOf(`userName xx "a"`), nil, "", 400, "invalidFilter"},

		{"PATCH unparsable path", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"replace","path":"emails[type eq","value":"x"}`)), 400, "invalidPath"},
		{"PATCH double dot path", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"replace","path":"name..givenName","value":"x"}`)), 400, "invalidPath"},
		{"PATCH path not a string", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"replace","path":7,"value":"x"}`)), 400, "invalidPath"},
		{"PATCH members filter on display", "PATCH", "/Groups/" + gid, nil, string(patch(`{"op":"remove","path":"members[display eq \"x\"]"}`)), 400, "invalidPath"},
		{"PATCH remove without path", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"remove"}`)), 400, "noTarget"},
		{"PATCH unknown op", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"jump","path":"active","value":true}`)), 400, "invalidSyntax"},
		{"PATCH without Operations", "PATCH", "/Users/" + uid, nil, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, 400, "invalidSyntax"},
		{"PATCH with the wrong schemas", "PATCH", "/Users/" + uid, nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"replace","path":"active","value":false}]}`, 400, "invalidSyntax"},
		{"PATCH add without value", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"add","path":"displayName"}`)), 400, "invalidValue"},
		{"PATCH is atomic: a bad op undoes the good one", "PATCH", "/Users/" + uid, nil,
			string(patch(`{"op":"replace","path":"displayName","value":"Changed"},{"op":"replace","path":"active","value":"perhaps"}`)), 400, "invalidValue"},
		{"group PATCH is atomic", "PATCH", "/Groups/" + gid, nil,
			string(patch(`{"op":"replace","path":"displayName","value":"renamed"},{"op":"add","path":"members","value":[{"value":"ghost"}]}`)), 400, "invalidValue"},
		{"group PATCH remove displayName", "PATCH", "/Groups/" + gid, nil, string(patch(`{"op":"remove","path":"displayName"}`)), 400, "mutability"},
		{"value filter creating nothing describable", "PATCH", "/Users/" + uid, nil, string(patch(`{"op":"add","path":"emails[type ne \"work\"].value","value":"x@y"}`)), 400, "noTarget"},

		{"count not a number", "GET", "/Users?count=abc", nil, "", 400, "invalidValue"},
		{"startIndex not a number", "GET", "/Users?startIndex=1.5", nil, "", 400, "invalidValue"},
		{"attributes and excludedAttributes together", "GET", "/Users?attributes=userName&excludedAttributes=emails", nil, "", 400, "invalidValue"},

		{"unknown resource type", "GET", "/Widgets", nil, "", 404, ""},
		{"unknown nested path", "GET", "/Users/" + uid + "/emails", nil, "", 404, ""},
		{"path traversal id", "GET", "/Users/..%2F..%2Fetc%2Fpasswd", nil, "", 404, ""},
		{"NUL id", "GET", "/Users/%00", nil, "", 404, ""},
		{"unknown user id", "PUT", "/Users/nope", nil, fmt.Sprintf(user, ""), 404, ""},
		{"unknown schema", "GET", "/Schemas/urn:nope", nil, "", 404, ""},
		{"bulk is not implemented", "POST", "/Bulk", nil, `{}`, 501, ""},
		{"POST on ServiceProviderConfig", "POST", "/ServiceProviderConfig", nil, `{}`, 405, ""},
		{"DELETE on Schemas", "DELETE", "/Schemas", nil, "", 405, ""},
		{"PUT on a resource type", "PUT", "/ResourceTypes/User", nil, `{}`, 405, ""},
		{"DELETE on the Users collection", "DELETE", "/Users", nil, "", 405, ""},
		{"PATCH on the Groups collection", "PATCH", "/Groups", nil, `{}`, 405, ""},

		{"If-Match mismatch on PUT", "PUT", "/Users/" + uid, map[string]string{"If-Match": `W/"99"`}, fmt.Sprintf(user, ""), 412, ""},
		{"If-Match mismatch on PATCH", "PATCH", "/Groups/" + gid, map[string]string{"If-Match": `W/"7"`}, string(patch(`{"op":"replace","path":"displayName","value":"x"}`)), 412, ""},
		{"If-Match garbage on DELETE", "DELETE", "/Users/" + uid, map[string]string{"If-Match": `"garbage"`}, "", 412, ""},

		{"missing token", "GET", "/Users", map[string]string{"Authorization": ""}, "", 401, ""},
		{"unknown token", "GET", "/Users", map[string]string{"Authorization": "Bearer osk_not-a-real-token"}, "", 401, ""},
		{"wrong scheme", "GET", "/Users", map[string]string{"Authorization": "Basic YWxpY2U6cGFzcw=="}, "", 401, ""},
		{"bad token on discovery", "GET", "/ServiceProviderConfig", map[string]string{"Authorization": "Bearer nope"}, "", 401, ""},
	}
	before := e.dump()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" || tt.method == "POST" {
				body = []byte(tt.body)
			}
			resp := e.do(tt.method, tt.path, tt.header, body)
			if resp.status != tt.status {
				t.Fatalf("%s %s = %d, want %d: %.300s", tt.method, tt.path, resp.status, tt.status, resp.raw)
			}
			if resp.header.Get("Content-Type") != "application/scim+json" {
				t.Errorf("Content-Type = %q", resp.header.Get("Content-Type"))
			}
			if got, _ := lookup(resp.body, "schemas/0"); got != "urn:ietf:params:scim:api:messages:2.0:Error" {
				t.Errorf("not a SCIM error: %.300s", resp.raw)
			}
			if got, _ := lookup(resp.body, "status"); got != fmt.Sprint(tt.status) {
				t.Errorf("status field = %#v", got)
			}
			if got, _ := lookup(resp.body, "scimType"); tt.scimType != "" && got != tt.scimType {
				t.Errorf("scimType = %#v, want %q (%s)", got, tt.scimType, resp.raw)
			}
			// The detail says what is wrong, in the IdP's terms, not where in
			// orgsync it was found.
			if d, _ := lookup(resp.body, "detail"); strings.Contains(fmt.Sprint(d), "store:") {
				t.Errorf("detail shows internal wording: %q", d)
			}
			switch tt.status {
			case 401:
				if resp.header.Get("WWW-Authenticate") != `Bearer realm="orgsync"` {
					t.Errorf("WWW-Authenticate = %q", resp.header.Get("WWW-Authenticate"))
				}
			case 405:
				if resp.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			}
			if after := e.dump(); after != before {
				t.Fatalf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestListEdgeCases: count and startIndex out of range are read per RFC
// 7644 §3.4.2.4 rather than refused.
func TestListEdgeCases(t *testing.T) {
	e := sqliteEnv(t, receiver.Options{MaxResults: 3})
	for i := 0; i < 5; i++ {
		if r := e.do("POST", "/Users", nil, []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.org"}`, i))); r.status != 201 {
			t.Fatal(r.status, string(r.raw))
		}
	}
	tests := []struct {
		query                      string
		total, perPage, startIndex float64
	}{
		{"count=-5", 5, 0, 1},
		{"count=0", 5, 0, 1},
		{"count=99999999999999999999", 5, 3, 1},
		{"startIndex=0&count=2", 5, 2, 1},
		{"startIndex=-7", 5, 3, 1},
		{"startIndex=5&count=3", 5, 1, 5},
		{"startIndex=99&count=3", 5, 0, 99},
		{"sortBy=userName&sortOrder=descending&count=1", 5, 1, 1},
		{"filter=userName sw \"U\" and not (userName eq \"u1@example.org\")&count=3", 4, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do("GET", "/Users?"+tt.query, nil, nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			res, _ := r.body["Resources"].([]any)
			if r.body["totalResults"] != tt.total || r.body["itemsPerPage"] != tt.perPage || r.body["startIndex"] != tt.startIndex || float64(len(res)) != tt.perPage {
				t.Fatalf("got total %v perPage %v start %v (%d resources), want %v %v %v", r.body["totalResults"], r.body["itemsPerPage"],
					r.body["startIndex"], len(res), tt.total, tt.perPage, tt.startIndex)
			}
		})
	}
	r := e.do("GET", "/ServiceProviderConfig", nil, nil)
	if got, _ := lookup(r.body, "filter/maxResults"); got != float64(3) {
		t.Fatalf("maxResults declared %v, want 3", got)
	}
}

// TestFailedAuthLimit: repeated failed authentication from one address is
// answered 429 with Retry-After, even with a valid token, until the window
// ends.
func TestFailedAuthLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := sqliteEnv(t, receiver.Options{FailedAuthLimit: 3, FailedAuthWindow: time.Minute, Now: clock})
	bad := map[string]string{"Authorization": "Bearer osk_wrong"}
	for i := 0; i < 3; i++ {
		if r := e.do("GET", "/Users", bad, nil); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := e.do("GET", "/Users", bad, nil)
	if r.status != 429 || r.header.Get("Retry-After") != "60" {
		t.Fatalf("after the limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r := e.do("GET", "/Users", nil, nil); r.status != 429 {
		t.Fatalf("valid token from a blocked address: %d", r.status)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if r := e.do("GET", "/Users", nil, nil); r.status != 200 {
		t.Fatalf("after the window: %d %s", r.status, r.raw)
	}
}

// TestDiscovery: discovery answers without a token, holds no org data, and
// lists exactly the schemas and resource types served.
func TestDiscovery(t *testing.T) {
	e := sqliteEnv(t, receiver.Options{})
	if r := e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"secret.person@example.org"}`)); r.status != 201 {
		t.Fatal(r.status)
	}
	noAuth := map[string]string{"Authorization": ""}
	for _, path := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas",
		"/Schemas/urn:hanzo:params:scim:schemas:extension:kms:2.0:User", "/Schemas?filter=garbage[[&count=-1"} {
		r := e.do("GET", path, noAuth, nil)
		if r.status != 200 || strings.Contains(string(r.raw), "secret.person") || strings.Contains(string(r.raw), "acme") {
			t.Fatalf("%s: %d %.300s", path, r.status, r.raw)
		}
	}
	r := e.do("GET", "/Schemas", nil, nil)
	var ids []string
	for _, s := range r.body["Resources"].([]any) {
		ids = append(ids, s.(map[string]any)["id"].(string))
	}
	want := "urn:ietf:params:scim:schemas:core:2.0:User urn:ietf:params:scim:schemas:extension:enterprise:2.0:User " +
		"urn:ietf:params:scim:schemas:core:2.0:Group " +
		"urn:hanzo:params:scim:schemas:extension:kms:2.0:User urn:hanzo:params:scim:schemas:extension:kms:2.0:Group"
	if strings.Join(ids, " ") != want || r.body["totalResults"] != float64(5) {
		t.Fatalf("schemas = %v", ids)
	}
	r = e.do("GET", "/ResourceTypes/User", nil, nil)
	if ext, _ := lookup(r.body, "schemaExtensions/0"); !reflect.DeepEqual(ext, map[string]any{
		"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}) {
		t.Fatalf("ResourceTypes/User = %s", r.raw)
	}
	r = e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", nil, nil)
	var names []string
	for _, a := range r.body["attributes"].([]any) {
		names = append(names, a.(map[string]any)["name"].(string))
	}
	if got := strings.Join(names, " "); got != "userName externalId name displayName emails active nickName profileUrl title userType "+
		"preferredLanguage locale timezone phoneNumbers ims photos addresses roles entitlements x509Certificates" {
		t.Fatalf("User schema attributes = %s", got)
	}
	r = e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", nil, nil)
	if sub, _ := lookup(r.body, "attributes/5/subAttributes/1/name"); sub != "$ref" {
		t.Fatalf("enterprise schema = %s", r.raw)
	}
	r = e.do("GET", "/ResourceTypes/Group", nil, nil)
	if r.body["endpoint"] != "/Groups" {
		t.Fatalf("ResourceTypes/Group = %s", r.raw)
	}
	if r := e.do("GET", "/Users", noAuth, nil); r.status != 401 {
		t.Fatalf("Users without a token: %d", r.status)
	}
}

// TestProjection: attributes and excludedAttributes, URN-qualified too.
func TestProjection(t *testing.T) {
	e := sqliteEnv(t, receiver.Options{})
	r := e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"p@example.org",
		"name":{"givenName":"P","familyName":"Q"},"emails":[{"value":"p@example.org","type":"work","primary":true}]}`))
	id := r.body["id"].(string)
	tests := []struct {
		query   string
		present []string
		absent  []string
	}{
		{"attributes=userName", []string{"id", "schemas", "userName"}, []string{"meta", "name", "emails", "active"}},
		{"attributes=name.givenName,emails.value", []string{"name/givenName", "emails/0/value"}, []string{"name/familyName", "emails/0/type", "userName"}},
		{"attributes=urn:ietf:params:scim:schemas:core:2.0:User:userName", []string{"userName"}, []string{"emails"}},
		{"attributes=urn:hanzo:params:scim:schemas:extension:kms:2.0:User:setupStatus",
			[]string{"urn:hanzo:params:scim:schemas:extension:kms:2.0:User/setupStatus"}, []string{"urn:hanzo:params:scim:schemas:extension:kms:2.0:User/setupCompleted", "userName"}},
		{"excludedAttributes=emails,name.familyName,id,schemas", []string{"id", "schemas", "userName", "name/givenName"}, []string{"emails", "name/familyName"}},
		{"excludedAttributes=urn:hanzo:params:scim:schemas:extension:kms:2.0:User", []string{"userName"}, []string{"urn:hanzo:params:scim:schemas:extension:kms:2.0:User"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			for _, path := range []string{"/Users/" + id + "?" + tt.query, "/Users?filter=userName eq \"p@example.org\"&" + tt.query} {
				r := e.do("GET", path, nil, nil)
				doc := any(r.body)
				if strings.Contains(path, "filter") {
					doc, _ = lookup(r.body, "Resources/0")
				}
				for _, p := range tt.present {
					if _, ok := lookup(doc, p); !ok {
						t.Errorf("%s: %s missing: %s", path, p, r.raw)
					}
				}
				for _, p := range tt.absent {
					if _, ok := lookup(doc, p); ok {
						t.Errorf("%s: %s present: %s", path, p, r.raw)
					}
				}
			}
		})
	}
}
