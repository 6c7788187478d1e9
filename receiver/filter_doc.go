package receiver

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// docSpec finds the User document attribute a filter path names: an
// attribute of scimattr.UserDoc (unqualified or with the core URN), or of
// scimattr.EnterpriseDoc (with its URN, or unqualified when the core
// schema has no such name). ok is false for anything else.
func docSpec(p filter.AttributePath) (attrSpec, bool) {
	attrs, prefix := scimattr.UserDoc, []string(nil)
	if p.URIPrefix != nil {
		switch {
		case strings.EqualFold(*p.URIPrefix, schemaUser):
		case strings.EqualFold(*p.URIPrefix, schemaEnterprise):
			attrs, prefix = scimattr.EnterpriseDoc, []string{schemaEnterprise}
		default:
			return attrSpec{}, false
		}
	}
	a := scimattr.Find(attrs, p.AttributeName)
	if a == nil && p.URIPrefix == nil {
		attrs, prefix = scimattr.EnterpriseDoc, []string{schemaEnterprise}
		a = scimattr.Find(attrs, p.AttributeName)
	}
	if a == nil {
		return attrSpec{}, false
	}
	path := append(prefix, a.Name)
	switch {
	case a.Multi:
		if p.SubAttribute != nil && scimattr.Find(a.Subs, *p.SubAttribute) == nil {
			return attrSpec{}, false
		}
		return attrSpec{canonical: a.Name, multi: true, doc: a, docPath: path}, true
	case a.Type == scimattr.TypeComplex:
		if p.SubAttribute == nil {
			return attrSpec{}, false
		}
		sub := scimattr.Find(a.Subs, *p.SubAttribute)
		if sub == nil {
			return attrSpec{}, false
		}
		return attrSpec{canonical: a.Name + "." + sub.Name, doc: sub, docPath: append(path, sub.Name)}, true
	case p.SubAttribute != nil:
		return attrSpec{}, false
	}
	return attrSpec{canonical: a.Name, doc: a, docPath: path}, true
}

// docCompare is the filter comparing document attribute a at path.
func docCompare(a *scimattr.Attr, path []string, op orgsync.FilterOp, value any, name string) (orgsync.Filter, error) {
	if op != orgsync.FilterPresent {
		switch v := value.(type) {
		case bool:
			if a.Type != scimattr.TypeBoolean || (op != orgsync.FilterEq && op != orgsync.FilterNe) {
				return orgsync.Filter{}, invalidFilter("%s %s true/false is not supported", name, op)
			}
		case string:
			if a.Type == scimattr.TypeBoolean {
				return orgsync.Filter{}, invalidFilter("%s is a boolean: compare it with true or false", name)
			}
			_ = v
		default:
			return orgsync.Filter{}, invalidFilter("%s needs a string value", name)
		}
	}
	return orgsync.Filter{Op: op, Attr: orgsync.AttrDocument, Path: path, CaseExact: a.CaseExact, Value: value}, nil
}

// docElementCompare compares sub-attribute sub (nil: the element's value)
// of the elements of multi-valued document attribute spec.
func docElementCompare(spec *attrSpec, sub *string, op orgsync.FilterOp, value any) (orgsync.Filter, error) {
	name := "value"
	if sub != nil {
		name = *sub
	}
	sa := scimattr.Find(spec.doc.Subs, name)
	if sa == nil {
		return orgsync.Filter{}, invalidFilter("unsupported sub-attribute %s of %s", name, spec.canonical)
	}
	return docCompare(sa, []string{sa.Name}, op, value, spec.canonical+"."+sa.Name)
}
