package receiver

import (
	"fmt"
	"regexp"
	"strings"
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

// valuePathCompare matches `attr[filter].sub op value` (and `… pr`), which
// IdPs send but the RFC grammar lacks; it is rewritten into
// `attr[filter and sub op value]` before parsing.
var valuePathCompare = regexp.MustCompile(`(?i)([a-z][\w:.-]*)\[([^\[\]]*)\]\.([a-z]\w*)\s+(?:(eq|ne|co|sw|ew|gt|ge|lt|le)\s+("(?:[^"\\]|\\.)*"|true|false|null|-?[0-9][0-9.eE+-]*)|(pr))`)

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

// simpleComparison is the shape of almost every filter IdPs send
// (userName eq "…", externalId eq "…", displayName eq "…"): one
// unqualified attribute, an operator and a quoted string.
var simpleComparison = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)(?:\.([A-Za-z][A-Za-z0-9_-]*))? ([A-Za-z]{2}) "` + simpleString + `"$`)

// simpleValuePath is Entra's matching filter shape:
// emails[type eq "work"].value eq "…".
var simpleValuePath = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)\[([A-Za-z][A-Za-z0-9_-]*) ([A-Za-z]{2}) "((?:[^"\\\x00-\x1f\[\]]|\\["\\/bfnrt])*)"\]\.([A-Za-z][A-Za-z0-9_-]*) ([A-Za-z]{2}) "` + simpleString + `"$`)

const simpleString = `((?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*)`

// simpleFilter parses the two filter shapes IdPs send on every lookup
// without the general parser, whose cost dominates a lookup; it returns
// nil for anything else. Its result is the one filter.ParseFilter gives
// (for a value path: on the rewritten filter; a test compares them).
func simpleFilter(raw string) (filter.Expression, error) {
	if m := simpleComparison.FindStringSubmatch(raw); m != nil {
		if e := simpleCompare(m[1], m[2], m[3], m[4]); e != nil {
			return e, nil
		}
		return nil, nil
	}
	if m := simpleValuePath.FindStringSubmatch(raw); m != nil {
		l, r := simpleCompare(m[2], "", m[3], m[4]), simpleCompare(m[5], "", m[6], m[7])
		if l == nil || r == nil {
			return nil, nil
		}
		return &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: m[1]},
			ValueFilter: &filter.LogicalExpression{Left: l, Right: r, Operator: filter.AND}}, nil
	}
	return nil, nil
}

// simpleCompare builds attr[.sub] op "value", or nil for an unknown op.
func simpleCompare(attr, sub, op, value string) *filter.AttributeExpression {
	switch op = strings.ToLower(op); op {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
	default:
		return nil
	}
	e := &filter.AttributeExpression{AttributePath: filter.AttributePath{AttributeName: attr},
		Operator: filter.CompareOperator(op), CompareValue: value}
	if sub != "" {
		e.AttributePath.SubAttribute = &sub
	}
	return e
}

// rewriteValuePaths rewrites `emails[type eq "work"].value eq "x"` into
// `emails[type eq "work" and value eq "x"]`, only where the match starts
// outside a string literal. A bracketed filter holding "or" is refused,
// since the rewrite would change its precedence.
func rewriteValuePaths(raw string) (string, error) {
	matches := valuePathCompare.FindAllStringSubmatchIndex(raw, -1)
	if len(matches) == 0 {
		return raw, nil
	}
	inString := quotedSpans(raw)
	var b strings.Builder
	last := 0
	for _, m := range matches {
		if inString(m[0]) {
			continue
		}
		attr, inner, sub := raw[m[2]:m[3]], raw[m[4]:m[5]], raw[m[6]:m[7]]
		if containsWord(inner, "or") {
			return "", invalidFilter("a value filter combined with a sub-attribute may not use or")
		}
		cmp := "pr"
		if m[8] >= 0 {
			cmp = raw[m[8]:m[9]] + " " + raw[m[10]:m[11]]
		}
		b.WriteString(raw[last:m[0]])
		fmt.Fprintf(&b, "%s[%s and %s %s]", attr, inner, sub, cmp)
		last = m[1]
	}
	b.WriteString(raw[last:])
	return b.String(), nil
}

// filterDepth is the deepest nesting of "(" and "[" in s outside string
// literals, counted in one pass before anything is parsed.
func filterDepth(s string) int {
	depth, deepest := 0, 0
	quoted, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case quoted:
			switch c {
			case '\\':
				escaped = true
			case '"':
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == '(' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == ')' || c == ']':
			depth--
		}
	}
	return deepest
}

// quotedSpans returns a function reporting whether byte i of s lies inside
// a string literal.
func quotedSpans(s string) func(int) bool {
	in := make([]bool, len(s))
	quoted, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		in[i] = quoted
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		}
	}
	return func(i int) bool { return i < len(in) && in[i] }
}

// containsWord reports whether word appears in s as a whole word outside
// string literals.
func containsWord(s, word string) bool {
	inString := quotedSpans(s)
	lower := strings.ToLower(s)
	for i := 0; i+len(word) <= len(lower); i++ {
		if lower[i:i+len(word)] != word || inString(i) {
			continue
		}
		before := i == 0 || lower[i-1] == ' ' || lower[i-1] == ')'
		after := i+len(word) == len(lower) || lower[i+len(word)] == ' ' || lower[i+len(word)] == '('
		if before && after {
			return true
		}
	}
	return false
}
