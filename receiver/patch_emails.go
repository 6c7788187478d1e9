package receiver

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
)

// applyEmails applies one op on emails, emails.sub, emails[filter] or
// emails[filter].sub. An add or replace whose value filter matches no
// element creates one from the filter's eq terms (Entra: add
// emails[type eq "work"].value to a user without a work email); remove
// with a value and no filter removes the listed addresses only.
func applyEmails(m *orgsync.Member, op string, t pathTarget, value any, hasValue bool) error {
	switch t.sub {
	case "", "value", "type", "primary":
	default:
		return nil // display, …: not kept
	}
	matches := make([]bool, len(m.Emails))
	found := false
	for i := range m.Emails {
		ok, err := matchEmail(t.filter, m.Emails[i])
		if err != nil {
			return err
		}
		matches[i], found = ok, found || ok
	}
	if op == "remove" {
		return removeEmails(m, t, matches, value, hasValue)
	}
	if t.filter == nil && t.sub == "" {
		list, err := emailsOf(value)
		if err != nil {
			return err
		}
		if op == "replace" {
			m.Emails = nil
		}
		if len(m.Emails)+len(list) > maxEmails {
			return badRequest(typeInvalidValue, "a user may have at most %d emails", maxEmails)
		}
		for _, e := range list {
			if e.Primary {
				clearPrimary(m)
			}
			m.Emails = append(m.Emails, e)
		}
		return nil
	}
	if !found {
		if len(m.Emails) >= maxEmails {
			return badRequest(typeInvalidValue, "a user may have at most %d emails", maxEmails)
		}
		e, err := emailTemplate(t.filter)
		if err != nil {
			return err
		}
		m.Emails = append(m.Emails, e)
		matches = append(matches, true)
	}
	for i := range m.Emails {
		if !matches[i] {
			continue
		}
		if err := setEmail(m, i, t.sub, value); err != nil {
			return err
		}
	}
	return nil
}

func clearPrimary(m *orgsync.Member) {
	for i := range m.Emails {
		m.Emails[i].Primary = false
	}
}

// setEmail sets sub-attribute sub of element i (or merges an object value
// into it when sub is "").
func setEmail(m *orgsync.Member, i int, sub string, value any) error {
	e := m.Emails[i]
	var err error
	switch sub {
	case "":
		obj, ok := value.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "an emails element must be an object")
		}
		if e, err = emailOf(fieldsOf(obj), e); err != nil {
			return err
		}
	case "value":
		e.Value, err = str("emails.value", value)
	case "type":
		e.Type, err = str("emails.type", value)
	case "primary":
		e.Primary, err = boolean("emails.primary", value)
	}
	if err != nil {
		return err
	}
	if e.Primary && !m.Emails[i].Primary {
		clearPrimary(m)
	}
	m.Emails[i] = e
	return nil
}

func removeEmails(m *orgsync.Member, t pathTarget, matches []bool, value any, hasValue bool) error {
	if t.filter == nil && t.sub == "" && hasValue && value != nil {
		list, err := emailsOf(value)
		if err != nil {
			return err
		}
		drop := map[string]bool{}
		for _, e := range list {
			drop[orgsync.Fold(e.Value)] = true
		}
		for i, e := range m.Emails {
			matches[i] = drop[orgsync.Fold(e.Value)]
		}
	}
	kept := m.Emails[:0:0]
	for i, e := range m.Emails {
		switch {
		case !matches[i]:
		case t.sub == "type":
			e.Type = ""
		case t.sub == "primary":
			e.Primary = false
		default:
			continue // the element goes
		}
		kept = append(kept, e)
	}
	m.Emails = kept
	return nil
}

// matchEmail evaluates a value filter on one email (nil matches all).
// Values and types compare case-insensitively (caseExact false).
func matchEmail(e filter.Expression, em orgsync.Email) (bool, error) {
	switch x := e.(type) {
	case nil:
		return true, nil
	case *filter.LogicalExpression:
		l, err := matchEmail(x.Left, em)
		if err != nil {
			return false, err
		}
		r, err := matchEmail(x.Right, em)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(x.Operator), "or") {
			return l || r, nil
		}
		return l && r, nil
	case *filter.NotExpression:
		v, err := matchEmail(x.Expression, em)
		return !v, err
	case *filter.AttributeExpression:
		if x.AttributePath.URIPrefix != nil || x.AttributePath.SubAttribute != nil {
			break
		}
		want, err := filterValue(x.CompareValue)
		if err != nil {
			return false, badRequest(typeInvalidPath, "%v", err)
		}
		op := strings.ToLower(string(x.Operator))
		switch strings.ToLower(x.AttributePath.AttributeName) {
		case "primary":
			b, ok := want.(bool)
			switch {
			case op == "pr":
				return true, nil
			case ok && op == "eq":
				return em.Primary == b, nil
			case ok && op == "ne":
				return em.Primary != b, nil
			}
		case "value":
			return compareText(op, em.Value, want)
		case "type":
			return compareText(op, em.Type, want)
		}
	}
	return false, badRequest(typeInvalidPath, "unsupported emails value filter")
}

func compareText(op, have string, want any) (bool, error) {
	if op == "pr" {
		return have != "", nil
	}
	w, ok := want.(string)
	if !ok {
		return false, badRequest(typeInvalidPath, "emails value filters compare strings")
	}
	h, w := orgsync.Fold(have), orgsync.Fold(w)
	return stringOp(op, h, w)
}

// emailTemplate builds the element a value filter of eq terms joined by
// and describes; anything else cannot be created (noTarget).
func emailTemplate(e filter.Expression) (orgsync.Email, error) {
	var em orgsync.Email
	var walk func(filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch x := e.(type) {
		case nil:
			return true
		case *filter.LogicalExpression:
			return strings.EqualFold(string(x.Operator), "and") && walk(x.Left) && walk(x.Right)
		case *filter.AttributeExpression:
			if !strings.EqualFold(string(x.Operator), "eq") {
				return false
			}
			v, err := filterValue(x.CompareValue)
			if err != nil {
				return false
			}
			switch strings.ToLower(x.AttributePath.AttributeName) {
			case "type":
				em.Type, _ = v.(string)
			case "value":
				em.Value, _ = v.(string)
			case "primary":
				em.Primary, _ = v.(bool)
			default:
				return false
			}
			return true
		}
		return false
	}
	if !walk(e) {
		return em, badRequest(typeNoTarget, "no emails element matches the path filter, and it does not describe one to create")
	}
	return em, nil
}
