package ldap

import (
	"strings"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// extra holds a user's optional enterprise attributes
// (user.title_attribute, employee_number_attribute, department_attribute,
// manager_attribute).
type extra struct {
	title, employeeNumber, department string
	managerDN                         string // normalised
}

// document is the member's SCIM document of e: title in the core schema,
// the others under the enterprise extension. The manager is the user
// whose DN the manager attribute names, by its id (the member's external
// key) and display name; a DN that is not one of the users read is left
// out. Values are trimmed and bounded as the SCIM receiver bounds them
// (too long a value is left out).
func (r *reader) document(e *extra) []byte {
	if e == nil {
		return nil
	}
	doc := map[string]any{}
	ent := map[string]any{}
	put := func(dst map[string]any, key, v string) {
		if v = strings.TrimSpace(v); v != "" && len(v) <= scimattr.MaxString && !strings.ContainsRune(v, 0) {
			dst[key] = v
		}
	}
	put(doc, "title", e.title)
	put(ent, "employeeNumber", e.employeeNumber)
	put(ent, "department", e.department)
	if e.managerDN != "" {
		if j, ok := r.byDN[e.managerDN]; ok && r.users[j].id != "" && r.users[j].held == "" {
			mgr := map[string]any{}
			put(mgr, "value", r.users[j].id)
			put(mgr, "displayName", r.users[j].display)
			if len(mgr) > 0 {
				ent["manager"] = mgr
			}
		}
	}
	if len(ent) > 0 {
		doc[scimattr.EnterpriseUser] = ent
	}
	return scimattr.Encode(doc)
}
