package receiver

import (
	"sort"
	"strings"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// applyUserPatch applies ops to m in order (the store saves the result
// only if every op succeeds): the core attributes on m's fields, every
// other one on its document, which is validated as a whole at the end.
func applyUserPatch(m *orgsync.Member, ops []patchOp) error {
	doc, err := scimattr.Decode(m.Attributes)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.path == "" {
			if op.op == "remove" {
				return badRequest(typeNoTarget, "remove needs a path")
			}
			pairs, err := userPathless(op.value)
			if err != nil {
				return err
			}
			for _, kv := range pairs {
				if err := applyUserPath(m, doc, op.op, kv.path, kv.value, true, true); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyUserPath(m, doc, op.op, op.path, op.value, op.hasValue, false); err != nil {
			return err
		}
	}
	m.Emails = normalEmails(m.Emails)
	checked, err := scimattr.ReadUser(doc)
	if err != nil {
		return docError(err)
	}
	m.Attributes = scimattr.Encode(checked)
	return nil
}

type pathValue struct {
	path  string
	value any
}

// userPathless turns the object of a path-less add or replace into (path,
// value) pairs: keys may be dotted ("name.givenName"), qualified with the
// core or enterprise URN ("urn:…:enterprise:2.0:User:employeeNumber"), or
// the enterprise URN itself with an object of its attributes. Keys of
// other schemas are skipped.
func userPathless(value any) ([]pathValue, error) {
	obj, ok := value.(map[string]any)
	if !ok {
		return nil, badRequest(typeInvalidValue, "an operation without path needs an object value")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	core, ent := strings.ToLower(schemaUser)+":", strings.ToLower(schemaEnterprise)
	var out []pathValue
	for _, k := range keys {
		lk := strings.ToLower(k)
		switch {
		case strings.HasPrefix(lk, core):
			out = append(out, pathValue{k[len(core):], obj[k]})
		case lk == ent:
			ext, ok := obj[k].(map[string]any)
			if !ok {
				if obj[k] != nil {
					return nil, badRequest(typeInvalidValue, "%s must be an object", schemaEnterprise)
				}
				continue
			}
			for sk, sv := range ext {
				out = append(out, pathValue{schemaEnterprise + ":" + sk, sv})
			}
		case strings.HasPrefix(lk, ent+":"):
			out = append(out, pathValue{k, obj[k]})
		case strings.HasPrefix(lk, "urn:"):
		default:
			out = append(out, pathValue{k, obj[k]})
		}
	}
	return out, nil
}

// applyUserPath applies one op on one path. lenient (a path-less value's
// keys, which are a body's attributes) skips unknown attributes; a path
// naming one is invalidPath.
func applyUserPath(m *orgsync.Member, doc map[string]any, op, path string, value any, hasValue, lenient bool) error {
	t, err := userPathTarget(path)
	if err != nil {
		return err
	}
	if t.readOnly {
		return nil
	}
	unknown := func() error {
		if lenient {
			return nil
		}
		return badRequest(typeInvalidPath, "unknown attribute in path %q", path)
	}
	if t.unknownNS {
		return unknown()
	}
	if t.ext {
		return applyEnterprise(doc, op, t, path, value, hasValue, lenient)
	}
	if t.name == "name" && t.sub == "" {
		if err := applyName(m, "", op != "remove", value); err != nil {
			return err
		}
		return patchDoc(doc, scimattr.Find(scimattr.UserDoc, "name"), op, t, value, hasValue)
	}
	if scimattr.CoreUserColumn(t.name, t.sub) {
		return applyCore(m, op, t.pathTarget, value, hasValue)
	}
	a := scimattr.Find(scimattr.UserDoc, t.name)
	if a == nil && scimattr.Find(scimattr.EnterpriseDoc, t.name) != nil {
		// An unqualified enterprise attribute (Entra's legacy "manager").
		t.ext = true
		return applyEnterprise(doc, op, t, path, value, hasValue, lenient)
	}
	if a == nil {
		return unknown()
	}
	return patchDoc(doc, a, op, t, value, hasValue)
}

// applyEnterprise applies an op on the enterprise extension or one of its
// attributes.
func applyEnterprise(doc map[string]any, op string, t userTarget, path string, value any, hasValue, lenient bool) error {
	ext, _ := doc[schemaEnterprise].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
	}
	if t.name == "" { // the whole extension
		switch obj := value.(type) {
		case map[string]any:
			if op == "remove" {
				break
			}
			if op == "replace" {
				ext = map[string]any{}
			}
			for k, v := range obj {
				a := scimattr.Find(scimattr.EnterpriseDoc, k)
				if a == nil {
					continue
				}
				if err := patchDoc(ext, a, "replace", userTarget{}, v, true); err != nil {
					return err
				}
			}
			putObject(doc, schemaEnterprise, ext)
			return nil
		case nil:
		default:
			return badRequest(typeInvalidValue, "%s must be an object", schemaEnterprise)
		}
		if op == "remove" || value == nil {
			delete(doc, schemaEnterprise)
		}
		return nil
	}
	a := scimattr.Find(scimattr.EnterpriseDoc, t.name)
	if a == nil {
		if lenient {
			return nil
		}
		return badRequest(typeInvalidPath, "unknown attribute in path %q", path)
	}
	if err := patchDoc(ext, a, op, t, value, hasValue); err != nil {
		return err
	}
	putObject(doc, schemaEnterprise, ext)
	return nil
}

// applyCore applies an op on an attribute kept in the member's columns.
func applyCore(m *orgsync.Member, op string, t pathTarget, value any, hasValue bool) error {
	if t.filter != nil && t.name != "emails" {
		return badRequest(typeInvalidPath, "%s is not multi-valued: it takes no value filter", t.name)
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
