package scim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// The configured filters are sent to the server, which does the real
// filtering. They are also checked here against every resource that comes
// back, because some servers ignore a filter they cannot parse and return
// everything. The check only ever answers "certainly not a match" when the
// resource's own values prove it: an attribute the resource does not show
// (the server may filter on what it does not return), a case difference
// (caseExact is the server's to know), a type mismatch or an operator
// combination not understood here all give "unknown", and an unknown
// resource is kept. So a wrong guess here can only keep an extra resource,
// never drop a rightful one.

type tri int8

const (
	no tri = iota
	unknown
	yes
)

func (t tri) not() tri { return yes - t }

// mayMatch reports whether res could match f: false only when it certainly
// does not.
func mayMatch(f filter.Expression, res map[string]any) bool {
	return eval(f, res) != no
}

func eval(f filter.Expression, res map[string]any) tri {
	switch f := f.(type) {
	case *filter.LogicalExpression:
		l, r := eval(f.Left, res), eval(f.Right, res)
		if f.Operator == filter.AND {
			return min(l, r)
		}
		return max(l, r)
	case *filter.NotExpression:
		return eval(f.Expression, res).not()
	case *filter.AttributeExpression:
		return any3(values(res, f.AttributePath, true), func(v any) tri { return compare(v, f.Operator, f.CompareValue) })
	case *filter.ValuePath:
		elems := values(res, f.AttributePath, false)
		return any3(elems, func(v any) tri {
			m, ok := v.(map[string]any)
			if !ok {
				return unknown
			}
			return eval(f.ValueFilter, m)
		})
	}
	return unknown
}

// any3 is yes when some value gives yes, no when every value (at least
// one) gives no, unknown otherwise; no values at all is unknown.
func any3(vals []any, f func(any) tri) tri {
	if len(vals) == 0 {
		return unknown
	}
	out := no
	for _, v := range vals {
		out = max(out, f(v))
	}
	return out
}

// values returns the values at p in res, one per element of a multi-valued
// attribute. With leaf set, a complex value without a sub-attribute stands
// for its "value" sub-attribute (as in `emails co "@example.org"`).
func values(res map[string]any, p filter.AttributePath, leaf bool) []any {
	container := res
	if uri := p.URI(); uri != "" && !strings.HasPrefix(strings.ToLower(uri), "urn:ietf:params:scim:schemas:core:2.0:") {
		ext, ok := field(res, uri).(map[string]any)
		if !ok {
			return nil
		}
		container = ext
	}
	var out []any
	var add func(v any)
	add = func(v any) {
		switch v := v.(type) {
		case nil:
		case []any:
			for _, e := range v {
				add(e)
			}
		case map[string]any:
			switch {
			case p.SubAttribute != nil:
				add(field(v, p.SubAttributeName()))
			case leaf:
				add(field(v, "value"))
			default:
				out = append(out, v)
			}
		default:
			out = append(out, v)
		}
	}
	add(field(container, p.AttributeName))
	return out
}

// compare evaluates `v op want` for one value of the resource.
func compare(v any, op filter.CompareOperator, want any) tri {
	if op == filter.PR {
		if s, ok := v.(string); ok && s == "" {
			return unknown
		}
		return yes
	}
	switch want := want.(type) {
	case string:
		got, ok := v.(string)
		if !ok {
			return unknown
		}
		if strings.ContainsRune(want, '\\') {
			// The parser keeps JSON escapes as written.
			unq, err := strconv.Unquote(`"` + want + `"`)
			if err != nil {
				return unknown
			}
			want = unq
		}
		return compareStrings(got, op, want)
	case bool:
		got, ok := scimattr.Bool(v)
		if !ok {
			return unknown
		}
		switch op {
		case filter.EQ:
			return of(got == want)
		case filter.NE:
			return of(got != want)
		}
	case int, float64:
		n, ok := v.(json.Number)
		if !ok {
			return unknown
		}
		got, err := n.Float64()
		if err != nil {
			return unknown
		}
		w := toFloat(want)
		switch op {
		case filter.EQ:
			return of(got == w)
		case filter.NE:
			return of(got != w)
		case filter.GT:
			return of(got > w)
		case filter.GE:
			return of(got >= w)
		case filter.LT:
			return of(got < w)
		case filter.LE:
			return of(got <= w)
		}
	}
	return unknown
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

func of(b bool) tri {
	if b {
		return yes
	}
	return no
}

// compareStrings answers only when the case-exact and the case-insensitive
// readings agree (dateTimes compare as instants).
func compareStrings(got string, op filter.CompareOperator, want string) tri {
	if a, err := time.Parse(time.RFC3339Nano, got); err == nil {
		if b, err := time.Parse(time.RFC3339Nano, want); err == nil {
			switch op {
			case filter.EQ:
				return of(a.Equal(b))
			case filter.NE:
				return of(!a.Equal(b))
			case filter.GT:
				return of(a.After(b))
			case filter.GE:
				return of(!a.Before(b))
			case filter.LT:
				return of(a.Before(b))
			case filter.LE:
				return of(!a.After(b))
			}
		}
	}
	exact := stringOp(got, op, want)
	folded := stringOp(strings.ToLower(got), op, strings.ToLower(want))
	if exact != folded {
		return unknown
	}
	return exact
}

func stringOp(got string, op filter.CompareOperator, want string) tri {
	switch op {
	case filter.EQ:
		return of(got == want)
	case filter.NE:
		return of(got != want)
	case filter.CO:
		return of(strings.Contains(got, want))
	case filter.SW:
		return of(strings.HasPrefix(got, want))
	case filter.EW:
		return of(strings.HasSuffix(got, want))
	case filter.GT:
		return of(got > want)
	case filter.GE:
		return of(got >= want)
	case filter.LT:
		return of(got < want)
	case filter.LE:
		return of(got <= want)
	}
	return unknown
}
