package scim

import (
	"encoding/json"
	"testing"

	"github.com/orgsync/orgsync"
)

// TestAttributeSpellings: a resource whose attribute names differ only in
// case maps the same way every time, by the rule the receiver shares
// (scimattr.Get): the exact spelling, else the first key in byte order.
// Before, the first match in Go's random map order won.
func TestAttributeSpellings(t *testing.T) {
	m, err := newMapping(Config{IDAttribute: "id", UserNameAttribute: "userName", EmailAttribute: "emails",
		GivenNameAttribute: "name.givenName", FamilyNameAttribute: "name.familyName", DisplayNameAttribute: "displayName"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		res      string
		userName string
		status   orgsync.Status
	}{
		{"exact spelling wins", `{"id":"1","username":"lower","userName":"exact","USERNAME":"upper"}`, "exact", orgsync.StatusActive},
		{"first in byte order", `{"id":"1","username":"lower","UserName":"mixed","USERNAME":"upper"}`, "upper", orgsync.StatusActive},
		// "ACTIVE" < "Active" < "active": the lenient "False" decides.
		{"active spelled three ways", `{"id":"1","userName":"u","Active":true,"active":true,"ACTIVE":"False"}`, "u", orgsync.StatusActive},
		{"active without exact spelling", `{"id":"1","userName":"u","Active":true,"ACTIVE":"False"}`, "u", orgsync.StatusDeprovisioned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 30 { // map order is random: the answer must not be
				res, err := decodeObject(json.RawMessage(tc.res))
				if err != nil {
					t.Fatal(err)
				}
				u, problem := m.user(res)
				if problem != "" || u.member.UserName != tc.userName || u.member.Status != tc.status {
					t.Fatalf("user = %q %s (%q), want %q %s", u.member.UserName, u.member.Status, problem, tc.userName, tc.status)
				}
			}
		})
	}
}
