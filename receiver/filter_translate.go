package receiver

import (
	"encoding/json"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
)

type filterTranslator struct {
	resource string
	nodes    int
}

// expr translates one node; within is the multi-valued attribute whose
// value filter this is, or nil at the top level.
func (t *filterTranslator) expr(e filter.Expression, within *attrSpec) (orgsync.Filter, error) {
	t.nodes++
	if t.nodes > 100 {
		return orgsync.Filter{}, invalidFilter("the filter has more than 100 terms")
	}
	switch x := e.(type) {
	case *filter.LogicalExpression:
		op := orgsync.FilterAnd
		if strings.EqualFold(string(x.Operator), "or") {
			op = orgsync.FilterOr
		}
		l, err := t.expr(x.Left, within)
		if err != nil {
			return orgsync.Filter{}, err
		}
		r, err := t.expr(x.Right, within)
		if err != nil {
			return orgsync.Filter{}, err
		}
		return orgsync.Filter{Op: op, Children: []orgsync.Filter{l, r}}, nil
	case *filter.NotExpression:
		c, err := t.expr(x.Expression, within)
		if err != nil {
			return orgsync.Filter{}, err
		}
		return orgsync.Filter{Op: orgsync.FilterNot, Children: []orgsync.Filter{c}}, nil
	case *filter.ValuePath:
		if within != nil {
			return orgsync.Filter{}, invalidFilter("value filters cannot be nested")
		}
		spec, err := t.attr(x.AttributePath)
		if err != nil {
			return orgsync.Filter{}, err
		}
		if !spec.multi || x.AttributePath.SubAttribute != nil {
			return orgsync.Filter{}, invalidFilter("%s is not a multi-valued attribute", x.AttributePath)
		}
		c, err := t.expr(x.ValueFilter, &spec)
		if err != nil {
			return orgsync.Filter{}, err
		}
		if spec.doc != nil {
			return orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrDocument, Path: spec.docPath, Children: []orgsync.Filter{c}}, nil
		}
		return orgsync.Filter{Op: orgsync.FilterAny, Attr: spec.canonical, Children: []orgsync.Filter{c}}, nil
	case *filter.AttributeExpression:
		return t.compare(x, within)
	}
	return orgsync.Filter{}, invalidFilter("unsupported filter expression")
}

func (t *filterTranslator) attr(p filter.AttributePath) (attrSpec, error) {
	name := strings.ToLower(p.AttributeName)
	if p.SubAttribute != nil {
		name += "." + strings.ToLower(*p.SubAttribute)
	}
	if p.URIPrefix != nil {
		uri := *p.URIPrefix
		switch {
		case strings.EqualFold(uri, coreURN[t.resource]):
		case strings.EqualFold(uri, extURN[t.resource]) && (name == "setupstatus" || name == "setupcompleted"):
		case t.resource == resourceUsers && strings.EqualFold(uri, schemaEnterprise):
			if spec, ok := docSpec(p); ok {
				return spec, nil
			}
			return attrSpec{}, invalidFilter("unsupported attribute %s", p)
		default:
			return attrSpec{}, invalidFilter("unsupported attribute %s", p)
		}
	} else if name == "setupstatus" || name == "setupcompleted" {
		return attrSpec{}, invalidFilter("%s must be qualified with %s", p.AttributeName, extURN[t.resource])
	}
	if spec, ok := filterAttrs[t.resource][name]; ok {
		return spec, nil
	}
	// emails.value: a sub-attribute of a multi-valued attribute.
	if p.SubAttribute != nil {
		if spec, ok := filterAttrs[t.resource][strings.ToLower(p.AttributeName)]; ok && spec.multi {
			if _, ok := spec.subs[strings.ToLower(*p.SubAttribute)]; ok {
				return spec, nil
			}
		}
	}
	if t.resource == resourceUsers {
		if spec, ok := docSpec(p); ok {
			return spec, nil
		}
	}
	return attrSpec{}, invalidFilter("unsupported attribute %s", p)
}

func (t *filterTranslator) compare(x *filter.AttributeExpression, within *attrSpec) (orgsync.Filter, error) {
	op := orgsync.FilterOp(strings.ToLower(string(x.Operator)))
	switch op {
	case orgsync.FilterEq, orgsync.FilterNe, orgsync.FilterCo, orgsync.FilterSw, orgsync.FilterEw,
		orgsync.FilterGt, orgsync.FilterGe, orgsync.FilterLt, orgsync.FilterLe, orgsync.FilterPresent:
	default:
		return orgsync.Filter{}, invalidFilter("unsupported operator %q", x.Operator)
	}
	value, err := filterValue(x.CompareValue)
	if err != nil {
		return orgsync.Filter{}, err
	}
	if op != orgsync.FilterPresent && value == nil {
		return orgsync.Filter{}, invalidFilter("comparison with null is not supported; use pr")
	}
	if within != nil { // a sub-attribute inside attr[...]
		if x.AttributePath.SubAttribute != nil || x.AttributePath.URIPrefix != nil {
			return orgsync.Filter{}, invalidFilter("unsupported attribute %s in a value filter", x.AttributePath)
		}
		if within.doc != nil {
			return docElementCompare(within, &x.AttributePath.AttributeName, op, value)
		}
		sub, ok := within.subs[strings.ToLower(x.AttributePath.AttributeName)]
		if !ok {
			return orgsync.Filter{}, invalidFilter("unsupported sub-attribute %s of %s", x.AttributePath.AttributeName, within.canonical)
		}
		return orgsync.Filter{Op: op, Attr: sub, Value: value}, nil
	}
	spec, err := t.attr(x.AttributePath)
	if err != nil {
		return orgsync.Filter{}, err
	}
	if spec.doc != nil && spec.multi {
		c, err := docElementCompare(&spec, x.AttributePath.SubAttribute, op, value)
		if err != nil {
			return orgsync.Filter{}, err
		}
		return orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrDocument, Path: spec.docPath, Children: []orgsync.Filter{c}}, nil
	}
	if spec.doc != nil {
		return docCompare(spec.doc, spec.docPath, op, value, spec.canonical)
	}
	if spec.multi { // emails eq "x" and emails.value eq "x" compare the value
		sub := orgsync.SubValue
		if x.AttributePath.SubAttribute != nil {
			sub = spec.subs[strings.ToLower(*x.AttributePath.SubAttribute)]
		}
		return orgsync.Filter{Op: orgsync.FilterAny, Attr: spec.canonical,
			Children: []orgsync.Filter{{Op: op, Attr: sub, Value: value}}}, nil
	}
	if spec.isTime && op != orgsync.FilterPresent {
		s, ok := value.(string)
		if !ok {
			return orgsync.Filter{}, invalidFilter("%s needs a dateTime string", x.AttributePath)
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return orgsync.Filter{}, invalidFilter("%s: %q is not an RFC 3339 dateTime", x.AttributePath, s)
		}
		value = tm
	}
	return orgsync.Filter{Op: op, Attr: spec.canonical, Value: value}, nil
}

// filterValue converts a parsed comparison value: strings have their JSON
// escapes resolved (the parser keeps them as written); numbers are not
// comparable with any attribute orgsync keeps.
func filterValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		var s string
		if err := json.Unmarshal([]byte(`"`+x+`"`), &s); err != nil {
			return nil, invalidFilter("bad escape in filter string %q", x)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, invalidFilter("filter strings must not contain NUL")
		}
		return s, nil
	}
	return nil, invalidFilter("numbers are not comparable with any supported attribute")
}
