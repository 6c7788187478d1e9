package receiver

import (
	"sort"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
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
