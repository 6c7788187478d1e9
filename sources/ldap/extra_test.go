package ldap

import (
	"context"
	"testing"
)

// TestSnapshotEnterpriseAttributes: title, employeeNumber, department and
// the manager DN are read by config into the member's document (the
// manager by its entry's id); unset configs read none of them.
func TestSnapshotEnterpriseAttributes(t *testing.T) {
	users := []fakeEntry{
		person("alice", "title", " Head of Ops ", "employeeNumber", "7", "departmentNumber", "Ops"),
		person("bob", "title", "Engineer", "manager", "UID=Alice, OU=People, DC=x"),
		person("carol", "manager", "uid=ghost,ou=people,dc=x"),
		person("dave"),
	}
	cfg := Config{User: UserConfig{TitleAttribute: "title", EmployeeNumberAttribute: "employeeNumber",
		DepartmentAttribute: "departmentNumber", ManagerAttribute: "manager"}}
	snap, err := fakeSource(t, cfg, &fakeConn{results: map[string][]fakeEntry{usersKey: users}}).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	want := map[string]string{
		"alice@x.org": `{"title":"Head of Ops","` + ent + `":{"department":"Ops","employeeNumber":"7"}}`,
		"bob@x.org":   `{"title":"Engineer","` + ent + `":{"manager":{"displayName":"alice Doe","value":"uuid-alice"}}}`,
		"carol@x.org": "", // a manager DN that is no user read
		"dave@x.org":  "",
	}
	if len(snap.Members) != len(want) {
		t.Fatalf("%d members", len(snap.Members))
	}
	for _, m := range snap.Members {
		if got := string(m.Attributes); got != want[m.UserName] {
			t.Errorf("%s: attributes %s, want %s", m.UserName, got, want[m.UserName])
		}
	}
	snap, err = fakeSource(t, Config{}, &fakeConn{results: map[string][]fakeEntry{usersKey: users}}).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range snap.Members {
		if len(m.Attributes) != 0 {
			t.Errorf("%s: attributes %s without any attribute configured", m.UserName, m.Attributes)
		}
	}
}
