package receiver

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// matchElement evaluates the value filter of a PATCH path on one element
// of multi-valued attribute a (nil matches every element). Strings compare
// by the sub-attribute's caseExact.
func matchElement(e filter.Expression, a *scimattr.Attr, elem map[string]any) (bool, error) {
	switch x := e.(type) {
	case nil:
		return true, nil
	case *filter.LogicalExpression:
		l, err := matchElement(x.Left, a, elem)
		if err != nil {
			return false, err
		}
		r, err := matchElement(x.Right, a, elem)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(x.Operator), "or") {
			return l || r, nil
		}
		return l && r, nil
	case *filter.NotExpression:
		v, err := matchElement(x.Expression, a, elem)
		return !v, err
	case *filter.AttributeExpression:
		if x.AttributePath.URIPrefix != nil || x.AttributePath.SubAttribute != nil {
			break
		}
		sub := scimattr.Find(a.Subs, x.AttributePath.AttributeName)
		if sub == nil {
			return false, badRequest(typeInvalidPath, "%s has no sub-attribute %q", a.Name, x.AttributePath.AttributeName)
		}
		want, err := filterValue(x.CompareValue)
		if err != nil {
			return false, badRequest(typeInvalidPath, "%v", err)
		}
		op := strings.ToLower(string(x.Operator))
		have, present := elem[sub.Name]
		if sub.Type == scimattr.TypeBoolean {
			b, _ := have.(bool)
			w, ok := want.(bool)
			switch {
			case op == "pr":
				return present, nil
			case ok && op == "eq":
				return b == w, nil
			case ok && op == "ne":
				return b != w, nil
			}
			return false, badRequest(typeInvalidPath, "%s.%s compares with eq or ne and true or false", a.Name, sub.Name)
		}
		s, _ := have.(string)
		return compareString(op, s, want, sub.CaseExact)
	}
	return false, badRequest(typeInvalidPath, "unsupported %s value filter", a.Name)
}

// compareString applies a filter operator to a string attribute.
func compareString(op, have string, want any, caseExact bool) (bool, error) {
	if op == "pr" {
		return have != "", nil
	}
	w, ok := want.(string)
	if !ok {
		return false, badRequest(typeInvalidPath, "value filters on strings compare strings")
	}
	h := have
	if !caseExact {
		h, w = strings.ToLower(h), strings.ToLower(w)
	}
	return stringOp(op, h, w)
}

// stringOp applies the comparison operator op to h (the attribute's
// value) and w (the filter's), both already folded when the attribute is
// not caseExact: the one operator table of the PATCH value filters.
func stringOp(op, h, w string) (bool, error) {
	switch op {
	case "eq":
		return h == w, nil
	case "ne":
		return h != w, nil
	case "co":
		return strings.Contains(h, w), nil
	case "sw":
		return strings.HasPrefix(h, w), nil
	case "ew":
		return strings.HasSuffix(h, w), nil
	case "gt":
		return h > w, nil
	case "ge":
		return h >= w, nil
	case "lt":
		return h < w, nil
	case "le":
		return h <= w, nil
	}
	return false, badRequest(typeInvalidPath, "unsupported operator %q", op)
}

// elementTemplate builds the element of a that a value filter of eq terms
// joined by and describes; any other filter cannot create one (noTarget).
func elementTemplate(e filter.Expression, a *scimattr.Attr) (map[string]any, error) {
	out := map[string]any{}
	var walk func(filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch x := e.(type) {
		case *filter.LogicalExpression:
			return strings.EqualFold(string(x.Operator), "and") && walk(x.Left) && walk(x.Right)
		case *filter.AttributeExpression:
			sub := scimattr.Find(a.Subs, x.AttributePath.AttributeName)
			if sub == nil || x.AttributePath.SubAttribute != nil || !strings.EqualFold(string(x.Operator), "eq") {
				return false
			}
			raw, err := filterValue(x.CompareValue)
			if err != nil {
				return false
			}
			v, err := scimattr.Value(sub, a.Name+"."+sub.Name, raw)
			if err != nil {
				return false
			}
			if v != nil {
				out[sub.Name] = v
			}
			return true
		}
		return false
	}
	if !walk(e) {
		return nil, badRequest(typeNoTarget, "no %s element matches the path filter, and it does not describe one to create", a.Name)
	}
	return out, nil
}
