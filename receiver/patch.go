package receiver

import (
	"sort"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
)

// patchOp is one operation of a PATCH request, its op in lower case.
type patchOp struct {
	op       string
	path     string
	value    any
	hasValue bool
}

// parsePatch reads a PatchOp body. A missing schemas is accepted (some
// IdPs omit it); a schemas without the PatchOp URN is not. Op names are
// case-insensitive (Entra sends "Replace").
func parsePatch(doc map[string]any) ([]patchOp, error) {
	f := fieldsOf(doc)
	if present, ok := hasSchema(f, schemaPatchOp); present && !ok {
		return nil, badRequest(typeInvalidSyntax, "schemas must be [%q]", schemaPatchOp)
	}
	list, ok := f.get("Operations").([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest(typeInvalidSyntax, "Operations must be a non-empty array")
	}
	ops := make([]patchOp, 0, len(list))
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest(typeInvalidSyntax, "every operation must be an object")
		}
		of := fieldsOf(obj)
		name, _ := of.get("op").(string)
		op := patchOp{op: strings.ToLower(strings.TrimSpace(name))}
		switch op.op {
		case "add", "remove", "replace":
		default:
			return nil, badRequest(typeInvalidSyntax, "op must be add, remove or replace, not %q", name)
		}
		switch p := of.get("path").(type) {
		case nil:
		case string:
			op.path = strings.TrimSpace(p)
		default:
			return nil, badRequest(typeInvalidPath, "path must be a string")
		}
		op.value, op.hasValue = obj["value"], of.has("value")
		if op.op != "remove" && !op.hasValue {
			return nil, badRequest(typeInvalidValue, "%s needs a value", op.op)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// parsePath parses a PATCH path; anything unparsable is invalidPath.
func parsePath(raw string) (p filter.Path, err error) {
	if len(raw) > maxFilterLen {
		return p, badRequest(typeInvalidPath, "path is too long")
	}
	defer func() {
		if r := recover(); r != nil {
			err = badRequest(typeInvalidPath, "invalid path %q", raw)
		}
	}()
	p, err = filter.ParsePath([]byte(raw))
	if err != nil {
		return p, badRequest(typeInvalidPath, "invalid path %q", raw)
	}
	return p, nil
}

// pathTarget is a parsed path reduced to what the resource handlers need.
type pathTarget struct {
	name   string            // attribute, lower case
	sub    string            // sub-attribute, lower case ("" for none)
	filter filter.Expression // value filter, or nil
	ignore bool              // an attribute of another schema or read-only: skip the op
}

func target(raw, core string, readOnlyURNs ...string) (pathTarget, error) {
	p, err := parsePath(raw)
	if err != nil {
		return pathTarget{}, err
	}
	t := pathTarget{name: strings.ToLower(p.AttributePath.AttributeName), filter: p.ValueExpression}
	if uri := p.AttributePath.URIPrefix; uri != nil && !strings.EqualFold(*uri, core) {
		t.ignore = true // enterprise extension, read-only KMS extension, unknown schemas
	}
	if s := p.AttributePath.SubAttribute; s != nil {
		t.sub = strings.ToLower(*s)
	}
	if s := p.SubAttribute; s != nil {
		if t.sub != "" {
			return t, badRequest(typeInvalidPath, "invalid path %q", raw)
		}
		t.sub = strings.ToLower(*s)
	}
	return t, nil
}

// pathlessKeys turns the object of a path-less add/replace into (path,
// value) pairs: keys may be dotted ("name.givenName") or qualified with the
// core schema URN; keys of other schemas are skipped.
func pathlessKeys(value any, core string) ([][2]any, error) {
	obj, ok := value.(map[string]any)
	if !ok {
		return nil, badRequest(typeInvalidValue, "an operation without path needs an object value")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][2]any
	prefix := strings.ToLower(core) + ":"
	for _, k := range keys {
		path := k
		if lk := strings.ToLower(k); strings.HasPrefix(lk, prefix) {
			path = k[len(prefix):]
		} else if strings.HasPrefix(lk, "urn:") {
			continue
		}
		out = append(out, [2]any{path, obj[k]})
	}
	return out, nil
}

// applyUserPatch applies ops to m in order (the store saves the result
// only if every op succeeds).
func applyUserPatch(m *orgsync.Member, ops []patchOp) error {
	for _, op := range ops {
		if op.path == "" {
			if op.op == "remove" {
				return badRequest(typeNoTarget, "remove needs a path")
			}
			pairs, err := pathlessKeys(op.value, schemaUser)
			if err != nil {
				return err
			}
			for _, kv := range pairs {
				if err := applyUserPath(m, op.op, kv[0].(string), kv[1], true); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyUserPath(m, op.op, op.path, op.value, op.hasValue); err != nil {
			return err
		}
	}
	m.Emails = normalEmails(m.Emails)
	return nil
}

func applyUserPath(m *orgsync.Member, op, path string, value any, hasValue bool) error {
	t, err := target(path, schemaUser)
	if err != nil || t.ignore {
		return err
	}
	if t.filter != nil && t.name != "emails" {
		return nil // a value filter on an attribute orgsync does not keep (addresses, phoneNumbers)
	}
	set := op != "remove"
	switch t.name {
	case "username":
		if !set {
			return badRequest(typeMutability, "userName is required and cannot be removed")
		}
		s, err := str("userName", value)
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return badRequest(typeInvalidValue, "userName is required")
		}
		m.UserName = s
	case "externalid":
		return setString(&m.ExternalID, "externalId", set, value)
	case "displayname":
		return setString(&m.DisplayName, "displayName", set, value)
	case "active":
		if !set {
			return nil
		}
		b, err := boolean("active", value)
		if err != nil {
			return err
		}
		m.Status = orgsync.StatusActive
		if !b {
			m.Status = orgsync.StatusDeprovisioned
		}
	case "name":
		return applyName(m, t.sub, set, value)
	case "emails":
		return applyEmails(m, op, t, value, hasValue)
	}
	return nil // id, meta, groups, password, roles and unknown attributes
}

func setString(dst *string, name string, set bool, value any) error {
	if !set {
		*dst = ""
		return nil
	}
	s, err := str(name, value)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

func applyName(m *orgsync.Member, sub string, set bool, value any) error {
	switch sub {
	case "givenname":
		return setString(&m.GivenName, "name.givenName", set, value)
	case "familyname":
		return setString(&m.FamilyName, "name.familyName", set, value)
	case "":
		if !set || value == nil {
			m.GivenName, m.FamilyName = "", ""
			return nil
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "name must be an object")
		}
		f := fieldsOf(obj)
		if f.has("givenName") {
			if err := setString(&m.GivenName, "name.givenName", true, f.get("givenName")); err != nil {
				return err
			}
		}
		if f.has("familyName") {
			return setString(&m.FamilyName, "name.familyName", true, f.get("familyName"))
		}
	}
	return nil // formatted, middleName, …: not kept
}
