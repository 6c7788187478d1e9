package receiver

import (
	"encoding/json"
	"testing"
)

// TestAttributeSpellings: a body whose attribute names differ only in case
// reads the same way as the SCIM source reads a resource (scimattr.Get):
// the exact spelling wins, else the first key in byte order. Before, the
// last key in byte order won, even over the exact spelling.
func TestAttributeSpellings(t *testing.T) {
	const schemas = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	for _, tc := range []struct {
		name     string
		body     string
		userName string
		active   bool
	}{
		{"exact spelling wins", `{` + schemas + `,"username":"lower","userName":"exact","USERNAME":"upper"}`, "exact", true},
		{"first in byte order", `{` + schemas + `,"username":"lower","UserName":"mixed","USERNAME":"upper"}`, "upper", true},
		{"lenient boolean, exact spelling", `{` + schemas + `,"userName":"u","ACTIVE":true,"active":"False"}`, "u", false},
		{"lenient boolean, first in byte order", `{` + schemas + `,"userName":"u","active ":1,"Active":true,"ACTIVE":" FALSE "}`, "u", false},
		{"schemas spelled otherwise", `{"SCHEMAS":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u"}`, "u", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 30 { // map order is random: the answer must not be
				var doc map[string]any
				if err := json.Unmarshal([]byte(tc.body), &doc); err != nil {
					t.Fatal(err)
				}
				in, err := parseUser(doc)
				if err != nil {
					t.Fatalf("parseUser: %v", err)
				}
				active := in.active == nil || *in.active
				if in.m.UserName != tc.userName || active != tc.active {
					t.Fatalf("userName %q active %v, want %q %v", in.m.UserName, active, tc.userName, tc.active)
				}
			}
		})
	}
}
