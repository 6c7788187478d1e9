package receiver

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

const maxFilterLen = 4096

// maxFilterDepth bounds the nesting of parentheses and brackets in a
// filter. The parser's cost grows with the square of the depth (a filter
// of 2,000 nested parentheses, within maxFilterLen, took 0.4 s of CPU),
// and no IdP nests more than a few levels.
const maxFilterDepth = 10

// attrSpec is the canonical attribute of a resource a SCIM attribute path
// names in a filter.
type attrSpec struct {
	canonical string
	multi     bool              // a multi-valued complex attribute (FilterAny)
	subs      map[string]string // its sub-attributes, lower case → canonical
	isTime    bool
	// doc is the definition of a User document attribute (sub-attribute
	// for a complex one), at docPath in the document.
	doc     *scimattr.Attr
	docPath []string
}

var emailSubs = map[string]string{"value": orgsync.SubValue, "type": orgsync.SubType, "primary": orgsync.SubPrimary}

// filterAttrs lists, per resource, the attributes a filter may name (lower
// case, with sub-attribute after a dot). Anything else is invalidFilter.
var filterAttrs = map[string]map[string]attrSpec{
	resourceUsers: {
		"id":                {canonical: orgsync.AttrID},
		"username":          {canonical: orgsync.AttrUserName},
		"externalid":        {canonical: orgsync.AttrExternalID},
		"displayname":       {canonical: orgsync.AttrDisplayName},
		"name.givenname":    {canonical: orgsync.AttrGivenName},
		"name.familyname":   {canonical: orgsync.AttrFamilyName},
		"active":            {canonical: orgsync.AttrActive},
		"meta.created":      {canonical: orgsync.AttrCreated, isTime: true},
		"meta.lastmodified": {canonical: orgsync.AttrLastModified, isTime: true},
		"emails":            {canonical: orgsync.AttrEmails, multi: true, subs: emailSubs},
		"setupstatus":       {canonical: orgsync.AttrSetupStatus},
		"setupcompleted":    {canonical: orgsync.AttrSetupCompleted},
	},
	resourceGroups: {
		"id":                {canonical: orgsync.AttrID},
		"displayname":       {canonical: orgsync.AttrDisplayName},
		"externalid":        {canonical: orgsync.AttrExternalID},
		"meta.created":      {canonical: orgsync.AttrCreated, isTime: true},
		"meta.lastmodified": {canonical: orgsync.AttrLastModified, isTime: true},
		"members":           {canonical: orgsync.AttrMembers, multi: true, subs: map[string]string{"value": orgsync.SubValue}},
	},
}

// coreURN and extURN are the schema URNs a filter attribute may carry.
var (
	coreURN = map[string]string{resourceUsers: schemaUser, resourceGroups: schemaGroup}
	extURN  = map[string]string{resourceUsers: schemaKMSUser, resourceGroups: schemaKMSGroup}
)

func invalidFilter(format string, a ...any) error {
	return badRequest(typeInvalidFilter, format, a...)
}

// parseFilter translates a SCIM filter on resource into an orgsync.Filter.
// It never drops a term: whatever it cannot translate exactly is 400
// invalidFilter.
func parseFilter(resource, raw string) (f *orgsync.Filter, err error) {
	if len(raw) > maxFilterLen {
		return nil, invalidFilter("the filter is longer than %d bytes", maxFilterLen)
	}
	if !utf8.ValidString(raw) || strings.IndexByte(raw, 0) >= 0 {
		return nil, invalidFilter("the filter is not valid UTF-8 text")
	}
	if d := filterDepth(raw); d > maxFilterDepth {
		return nil, invalidFilter("the filter nests parentheses or brackets %d levels deep; at most %d are allowed", d, maxFilterDepth)
	}
	rewritten, err := rewriteValuePaths(raw)
	if err != nil {
		return nil, err
	}
	defer func() { // the parser is third-party: a panic is a bad filter, not a crash
		if r := recover(); r != nil {
			f, err = nil, invalidFilter("the filter cannot be parsed")
		}
	}()
	expr, perr := simpleFilter(raw)
	if expr == nil {
		expr, perr = filter.ParseFilter([]byte(rewritten))
	}
	if perr != nil {
		return nil, invalidFilter("the filter cannot be parsed (values must be quoted strings, true, false or null): %s", raw)
	}
	t := filterTranslator{resource: resource}
	out, err := t.expr(expr, nil)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

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
