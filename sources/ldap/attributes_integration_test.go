package ldap

import (
	"encoding/json"
	"testing"
)

// TestSlapdEnterpriseAttributes: against a real slapd, title,
// employeeNumber, departmentNumber and the manager DN are read by config
// into the member's document, the manager as the entryUUID of alice's
// entry; without the config no document is read.
func TestSlapdEnterpriseAttributes(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.User.TitleAttribute = "title"
	cfg.User.EmployeeNumberAttribute = "employeeNumber"
	cfg.User.DepartmentAttribute = "departmentNumber"
	cfg.User.ManagerAttribute = "manager"
	snap := mustSnapshot(t, cfg)
	alice, bob := memberByName(snap, "alice@example.org"), memberByName(snap, "bob@example.org")
	if alice == nil || bob == nil {
		t.Fatal("alice or bob missing from the snapshot")
	}
	type manager struct {
		Value       string `json:"value"`
		DisplayName string `json:"displayName"`
	}
	type doc struct {
		Title      string `json:"title"`
		Enterprise *struct {
			EmployeeNumber string   `json:"employeeNumber"`
			Department     string   `json:"department"`
			Manager        *manager `json:"manager"`
		} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	}
	read := func(name string, raw []byte) doc {
		t.Helper()
		var d doc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: attributes %q: %v", name, raw, err)
		}
		return d
	}
	a := read("alice", alice.Attributes)
	if a.Title != "Head of Ops" || a.Enterprise == nil || a.Enterprise.EmployeeNumber != "7" || a.Enterprise.Department != "Ops" || a.Enterprise.Manager != nil {
		t.Errorf("alice: attributes %s", alice.Attributes)
	}
	b := read("bob", bob.Attributes)
	if b.Title != "Engineer" || b.Enterprise == nil || b.Enterprise.Manager == nil || b.Enterprise.Manager.Value != alice.ExternalID || alice.ExternalID == "" {
		t.Errorf("bob: attributes %s, want manager %q (alice's entryUUID)", bob.Attributes, alice.ExternalID)
	}
	plain := mustSnapshot(t, slapdConfig(t))
	if m := memberByName(plain, "alice@example.org"); m == nil || len(m.Attributes) != 0 {
		t.Errorf("without the mapping, alice has attributes %s", m.Attributes)
	}
}
