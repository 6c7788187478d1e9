package receiver

import (
	"errors"
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// The document attributes of a User (scimattr.UserDoc and, under the
// enterprise URN, scimattr.EnterpriseDoc) are patched on the decoded
// document; applyUserPatch validates the whole document afterwards
// (scimattr.ReadUser), so a PATCH that leaves a wrong value is refused
// with nothing written.

const schemaEnterprise = scimattr.EnterpriseUser

// docError is the answer to a document the receiver refuses.
func docError(err error) error {
	var ve *scimattr.ValueError
	switch {
	case errors.As(err, &ve):
		return badRequest(typeInvalidValue, "%s", ve.Error())
	case errors.Is(err, scimattr.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "", "%v", err)
	}
	return err
}

// userTarget is a parsed User PATCH path.
type userTarget struct {
	pathTarget
	ext       bool // an enterprise extension attribute (name "" for the whole extension)
	readOnly  bool // the KMS extension, id, meta, groups, password: the op is skipped
	unknownNS bool // a schema URN orgsync does not know
}

func userPathTarget(raw string) (userTarget, error) {
	if strings.EqualFold(strings.TrimSpace(raw), schemaEnterprise) {
		return userTarget{ext: true}, nil
	}
	p, err := parsePath(raw)
	if err != nil {
		return userTarget{}, err
	}
	t := userTarget{pathTarget: pathTarget{name: strings.ToLower(p.AttributePath.AttributeName), filter: p.ValueExpression}}
	if uri := p.AttributePath.URIPrefix; uri != nil {
		switch {
		case strings.EqualFold(*uri, schemaUser):
		case strings.EqualFold(*uri, schemaEnterprise):
			t.ext = true
		case strings.EqualFold(*uri, schemaKMSUser):
			t.readOnly = true
		default:
			t.unknownNS = true
		}
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
	if !t.ext {
		switch t.name {
		case "id", "meta", "groups", "password", "schemas":
			t.readOnly = true
		}
	}
	return t, nil
}

// patchDoc applies one op on attribute a of container parent (the
// document, or its enterprise extension object).
func patchDoc(parent map[string]any, a *scimattr.Attr, op string, t userTarget, value any, hasValue bool) error {
	var sub *scimattr.Attr
	if t.sub != "" {
		if sub = scimattr.Find(a.Subs, t.sub); sub == nil {
			return badRequest(typeInvalidPath, "%s has no sub-attribute %q", a.Name, t.sub)
		}
	}
	if t.filter != nil && !a.Multi {
		return badRequest(typeInvalidPath, "%s is not multi-valued: it takes no value filter", a.Name)
	}
	set := op != "remove"
	switch {
	case a.Multi:
		return patchMulti(parent, a, op, sub, t.filter, value, hasValue)
	case a.Type != scimattr.TypeComplex:
		if sub != nil {
			return badRequest(typeInvalidPath, "%s has no sub-attributes", a.Name)
		}
		return setDocValue(parent, a, a.Name, set, value)
	case sub != nil:
		obj, _ := parent[a.Name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		if err := setDocValue(obj, sub, a.Name+"."+sub.Name, set, value); err != nil {
			return err
		}
		putObject(parent, a.Name, obj)
		return nil
	}
	if !set || value == nil {
		delete(parent, a.Name)
		return nil
	}
	v, err := scimattr.Value(a, a.Name, value)
	if err != nil {
		return docError(err)
	}
	obj, _ := parent[a.Name].(map[string]any)
	merged := map[string]any{}
	for k, x := range obj {
		merged[k] = x
	}
	if nv, ok := v.(map[string]any); ok {
		for k, x := range nv {
			merged[k] = x
		}
	}
	putObject(parent, a.Name, merged)
	return nil
}

// setDocValue sets (or with set false, removes) the simple attribute a of
// obj; null and "" remove it too.
func setDocValue(obj map[string]any, a *scimattr.Attr, name string, set bool, value any) error {
	if !set {
		delete(obj, a.Name)
		return nil
	}
	v, err := scimattr.Value(a, name, value)
	if err != nil {
		return docError(err)
	}
	if v == nil {
		delete(obj, a.Name)
		return nil
	}
	obj[a.Name] = v
	return nil
}

func putObject(parent map[string]any, key string, obj map[string]any) {
	if len(obj) == 0 {
		delete(parent, key)
		return
	}
	parent[key] = obj
}

// patchMulti applies an op on a multi-valued attribute: the whole list,
// one sub-attribute of every element, or the elements a value filter
// selects. An add or replace whose filter matches nothing creates the
// element the filter's eq terms describe (Entra).
func patchMulti(parent map[string]any, a *scimattr.Attr, op string, sub *scimattr.Attr, f filter.Expression, value any, hasValue bool) error {
	list := elements(parent[a.Name])
	set := op != "remove"
	if f == nil && sub == nil {
		switch {
		case !set && hasValue && value != nil:
			drop, err := scimattr.Value(a, a.Name, value)
			if err != nil {
				return docError(err)
			}
			list = without(list, elements(drop))
		case !set:
			list = nil
		default:
			v, err := scimattr.Value(a, a.Name, value)
			if err != nil {
				return docError(err)
			}
			add := elements(v)
			if op == "replace" {
				list = nil
			}
			for _, e := range add {
				if primary(e) {
					clearPrimaries(list)
				}
			}
			list = append(list, add...)
		}
		putList(parent, a.Name, list)
		return nil
	}
	matches := make([]bool, len(list))
	found := false
	for i, e := range list {
		ok, err := matchElement(f, a, e)
		if err != nil {
			return err
		}
		matches[i], found = ok, found || ok
	}
	if !set {
		kept := list[:0:0]
		for i, e := range list {
			switch {
			case !matches[i]:
			case sub != nil:
				delete(e, sub.Name)
			default:
				continue
			}
			kept = append(kept, e)
		}
		putList(parent, a.Name, kept)
		return nil
	}
	if !found {
		// Nothing to set the value on. With a filter, the element its eq
		// terms describe is created (Entra); without one (phoneNumbers.value
		// on a user with no phone numbers) the attribute does not exist yet,
		// and an add or replace of it is an add of one element (RFC 7644
		// §3.5.2.3).
		e := map[string]any{}
		if f != nil {
			var err error
			if e, err = elementTemplate(f, a); err != nil {
				return err
			}
		}
		list, matches = append(list, e), append(matches, true)
	}
	for i, e := range list {
		if !matches[i] {
			continue
		}
		if sub != nil {
			if err := setDocValue(e, sub, a.Name+"."+sub.Name, true, value); err != nil {
				return err
			}
		} else {
			v, err := scimattr.Value(&scimattr.Attr{Name: a.Name, Type: scimattr.TypeComplex, Subs: a.Subs}, a.Name, value)
			if err != nil {
				return docError(err)
			}
			nv, _ := v.(map[string]any)
			for k, x := range nv {
				e[k] = x
			}
		}
		if primary(e) {
			for j, o := range list {
				if j != i && primary(o) {
					o["primary"] = false
				}
			}
		}
	}
	putList(parent, a.Name, list)
	return nil
}

// elements copies the elements of a stored or normalised list.
func elements(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if obj, ok := x.(map[string]any); ok {
			c := make(map[string]any, len(obj))
			for k, y := range obj {
				c[k] = y
			}
			out = append(out, c)
		}
	}
	return out
}

func putList(parent map[string]any, key string, list []map[string]any) {
	out := make([]any, 0, len(list))
	for _, e := range list {
		if len(e) > 0 {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		delete(parent, key)
		return
	}
	parent[key] = out
}

func primary(e map[string]any) bool { p, _ := e["primary"].(bool); return p }

func clearPrimaries(list []map[string]any) {
	for _, e := range list {
		if primary(e) {
			e["primary"] = false
		}
	}
}

// without removes from list the elements whose value equals (case-
// insensitively) that of an element of drop, or that equal it entirely.
func without(list, drop []map[string]any) []map[string]any {
	kept := list[:0:0]
	for _, e := range list {
		gone := false
		for _, d := range drop {
			ev, _ := e["value"].(string)
			dv, _ := d["value"].(string)
			if (dv != "" && strings.EqualFold(ev, dv)) || (dv == "" && sameElement(e, d)) {
				gone = true
				break
			}
		}
		if !gone {
			kept = append(kept, e)
		}
	}
	return kept
}

func sameElement(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
