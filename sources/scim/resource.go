package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// attrPath is a parsed attribute mapping such as `name.givenName` or
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
type attrPath struct {
	uri, name, sub string
}

func parseAttrPath(s string) (attrPath, error) {
	p, err := filter.ParseAttrPath([]byte(s))
	if err != nil {
		return attrPath{}, fmt.Errorf("invalid SCIM attribute path %q: %v", s, err)
	}
	return attrPath{uri: p.URI(), name: p.AttributeName, sub: p.SubAttributeName()}, nil
}

func (p attrPath) is(name string) bool {
	return p.sub == "" && strings.EqualFold(p.name, name) &&
		(p.uri == "" || strings.EqualFold(p.uri, scimattr.User))
}

// field returns the value of key in m, nil when absent; SCIM attribute
// names are case-insensitive, and the rule for keys differing only in case
// is the one the receiver shares (scimattr.Get).
func field(m map[string]any, key string) any {
	v, _ := scimattr.Get(m, key)
	return v
}

// pick returns the primary element of a multi-valued attribute, or its
// first; v itself when it is not multi-valued.
func pick(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if p, ok := scimattr.Bool(field(m, "primary")); ok && p {
				return e
			}
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

// resolve returns the string value of p in the resource res, "" when
// absent.
func (p attrPath) resolve(res map[string]any) string {
	container := res
	if p.uri != "" && !strings.EqualFold(p.uri, scimattr.User) {
		ext, _ := field(res, p.uri).(map[string]any)
		if ext == nil {
			return ""
		}
		container = ext
	}
	v := pick(field(container, p.name))
	if m, ok := v.(map[string]any); ok {
		sub := p.sub
		if sub == "" {
			sub = "value" // a complex multi-valued attribute such as emails
		}
		v = pick(field(m, sub))
	}
	return scalar(v)
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// mapping turns SCIM resources into domain members and groups.
type mapping struct {
	id, userName, email, givenName, familyName, displayName attrPath
}

func newMapping(c Config) (mapping, error) {
	var m mapping
	for _, f := range []struct {
		dst *attrPath
		key string
		src string
	}{
		{&m.id, "id_attribute", c.IDAttribute},
		{&m.userName, "user_name_attribute", c.UserNameAttribute},
		{&m.email, "email_attribute", c.EmailAttribute},
		{&m.givenName, "given_name_attribute", c.GivenNameAttribute},
		{&m.familyName, "family_name_attribute", c.FamilyNameAttribute},
		{&m.displayName, "display_name_attribute", c.DisplayNameAttribute},
	} {
		p, err := parseAttrPath(f.src)
		if err != nil {
			return m, fmt.Errorf("scim.%s: %w", f.key, err)
		}
		*f.dst = p
	}
	return m, nil
}

// decodeObject decodes one resource as a generic JSON object, keeping
// numbers as written.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return res, nil
}

// user is one /Users resource as read: its remote id (what group members
// refer to) and the member it becomes.
type user struct {
	remoteID string
	member   orgsync.Member
}

// user maps a decoded /Users resource. problem is non-empty when the entry
// cannot be used: it is held, with whatever key and name it has.
func (m mapping) user(res map[string]any) (u user, problem string) {
	u.remoteID = scalar(field(res, "id"))
	mem := &u.member
	mem.ExternalID = m.id.resolve(res)
	mem.UserName = m.userName.resolve(res)
	mem.GivenName = m.givenName.resolve(res)
	mem.FamilyName = m.familyName.resolve(res)
	mem.DisplayName = m.displayName.resolve(res)
	mem.Emails = m.emails(res)
	mem.Status = orgsync.StatusActive
	if v := field(res, "active"); v != nil {
		active, ok := scimattr.Bool(v)
		if !ok {
			return u, fmt.Sprintf("active is %s, not a boolean", short(v))
		}
		if !active {
			mem.Status = orgsync.StatusDeprovisioned
		}
	}
	// The attributes beyond the mapped ones (RFC 7643 §4.1, the enterprise
	// extension) are read as the receiver reads them; a wrong type holds
	// the entry, as a malformed active does.
	doc, err := scimattr.ReadUser(res)
	if err != nil {
		return u, err.Error()
	}
	mem.Attributes = scimattr.Encode(doc)
	switch {
	case u.remoteID == "":
		return u, "no id"
	case mem.ExternalID == "":
		return u, fmt.Sprintf("no %s", m.id)
	case mem.UserName == "":
		return u, fmt.Sprintf("no %s", m.userName)
	}
	return u, ""
}

// emails returns every address of the mapped email attribute: for
// `emails`, the whole list with types and the primary flag; for any other
// attribute, its value as the one primary address.
func (m mapping) emails(res map[string]any) []orgsync.Email {
	if !m.email.is("emails") {
		if v := m.email.resolve(res); v != "" {
			return []orgsync.Email{{Value: v, Primary: true}}
		}
		return nil
	}
	list, _ := field(res, "emails").([]any)
	var out []orgsync.Email
	for _, e := range list {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		v := scalar(field(em, "value"))
		if v == "" {
			continue
		}
		primary, _ := scimattr.Bool(field(em, "primary"))
		out = append(out, orgsync.Email{Value: v, Type: scalar(field(em, "type")), Primary: primary})
	}
	return out
}

func (p attrPath) String() string {
	s := p.name
	if p.uri != "" {
		s = p.uri + ":" + s
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	return s
}

// short renders a JSON value for a warning, cut to a readable length.
func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// scimGroup is one /Groups resource.
type scimGroup struct {
	ID          string
	DisplayName string
	Members     []groupMember
	// hasMembers says the resource has a members attribute (an empty
	// array included): without one, an empty group and a server leaving
	// members out look the same.
	hasMembers bool
}

type groupMember struct{ Value, Type string }

// group maps a decoded /Groups resource. problem is non-empty when the
// entry cannot be used: a member that is not an object with a string
// value, an id or displayName that is not a string, or none at all.
func group(res map[string]any) (g scimGroup, problem string) {
	str := func(key string) string {
		v := field(res, key)
		s, ok := v.(string)
		if !ok && v != nil && problem == "" {
			problem = fmt.Sprintf("%s is %s, not a string", key, short(v))
		}
		return strings.TrimSpace(s)
	}
	g.ID, g.DisplayName = str("id"), str("displayName")
	switch v := field(res, "members").(type) {
	case nil: // absent, or null
	case []any:
		g.hasMembers = true
		for i, el := range v {
			m, ok := el.(map[string]any)
			if !ok {
				if problem == "" {
					problem = fmt.Sprintf("members[%d] is %s, not an object", i, short(el))
				}
				continue
			}
			value, ok := field(m, "value").(string)
			typ, typeOK := field(m, "type").(string)
			switch {
			case !ok || strings.TrimSpace(value) == "":
				if problem == "" {
					problem = fmt.Sprintf("members[%d].value is %s, not a member id", i, short(field(m, "value")))
				}
				continue
			case !typeOK && field(m, "type") != nil:
				if problem == "" {
					problem = fmt.Sprintf("members[%d].type is %s, not a string", i, short(field(m, "type")))
				}
				continue
			}
			g.Members = append(g.Members, groupMember{Value: strings.TrimSpace(value), Type: typ})
		}
	default:
		if problem == "" {
			problem = fmt.Sprintf("members is %s, not an array", short(v))
		}
	}
	switch {
	case problem != "":
	case g.ID == "":
		problem = "no id"
	case g.DisplayName == "":
		problem = "no displayName"
	}
	return g, problem
}
