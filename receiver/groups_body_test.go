package receiver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/receiver"
)

// Any valid Group body creates a group; every member of the answer
// carries a $ref that a GET answers with that member, on both mounts; the
// group's externalId round-trips through POST, GET, PUT and PATCH.
func TestGroupBodiesAndRefs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, _ := b.cfg(t)
			e := newEnv(t, cfg, receiver.Options{})
			var ids []string
			for i := 0; i < 3; i++ {
				r := e.do("POST", "/Users", nil, []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"m%d@example.org"}`, i)))
				if r.status != 201 {
					t.Fatalf("user: %d %s", r.status, r.raw)
				}
				ids = append(ids, r.body["id"].(string))
			}
			bodies := map[string]string{
				"only schemas and displayName": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Only"}`,
				"members with value only":      fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"V","members":[{"value":%q}]}`, ids[0]),
				"members with display, $ref and type": fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"R",
					"members":[{"value":%q,"display":"whoever","$ref":"https://elsewhere.example/Users/%s","type":"User"},{"value":%q,"$ref":null},{"value":%q,"display":"m2"}]}`,
					ids[0], ids[0], ids[1], ids[2]),
				"externalId and empty members": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"E","externalId":"ext-1","members":[]}`,
			}
			for name, body := range bodies {
				t.Run(name, func(t *testing.T) {
					r := e.do("POST", "/Groups", nil, []byte(body))
					if r.status != 201 {
						t.Fatalf("POST = %d %s", r.status, r.raw)
					}
					gid := r.body["id"].(string)
					for _, mount := range []string{"", "/api/v1/scim"} {
						path, prefix := "/Groups/"+gid, e.base+"/Users/"
						if mount != "" {
							path, prefix = mount+path, e.srv.URL+mount+"/Users/"
						}
						g := e.do("GET", path, nil, nil)
						members, _ := g.body["members"].([]any)
						if strings.Contains(body, `"members":[{`) && len(members) == 0 {
							t.Fatalf("GET %s: no members: %s", path, g.raw)
						}
						for _, m := range members {
							ref, _ := m.(map[string]any)["$ref"].(string)
							if !strings.HasPrefix(ref, prefix) {
								t.Fatalf("member $ref %q of %s", ref, path)
							}
							u := e.do("GET", ref, nil, nil)
							if u.status != 200 || u.body["id"] != m.(map[string]any)["value"] {
								t.Fatalf("GET %s (a member's $ref) = %d %s", ref, u.status, u.raw)
							}
						}
					}
				})
			}
			r := e.do("GET", `/Groups?filter=externalId eq "ext-1"`, nil, nil)
			gid, _ := lookup(r.body, "Resources/0/id")
			if r.body["totalResults"] != float64(1) {
				t.Fatalf("externalId filter: %s", r.raw)
			}
			put := e.do("PUT", fmt.Sprint("/Groups/", gid), nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"E","externalId":"ext-2"}`))
			if put.status != 200 || put.body["externalId"] != "ext-2" || put.header.Get("ETag") != `W/"2"` {
				t.Fatalf("PUT externalId: %d %s %v", put.status, put.raw, put.header)
			}
			patch := e.do("PATCH", fmt.Sprint("/Groups/", gid, "?excludedAttributes=members"), nil,
				[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"externalId","value":"ext-3"}]}`))
			if patch.status != 200 || patch.body["externalId"] != "ext-3" {
				t.Fatalf("PATCH externalId: %d %s", patch.status, patch.raw)
			}
			if g := e.do("GET", fmt.Sprint("/Groups/", gid), nil, nil); g.body["externalId"] != "ext-3" {
				t.Fatalf("GET after PATCH: %s", g.raw)
			}
		})
	}
}
