package store_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"

	"github.com/orgsync/orgsync"
)

// The reference semantics of document filters (orgsync.AttrDocument): a
// string at Path compares folded unless CaseExact, an absent one is "";
// a bool compares as a JSON boolean, an absent one is false; pr asks for
// a non-empty value.

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// randomDoc is a member document with or without a title, an enterprise
// employeeNumber and addresses (type, locality, primary).
func randomDoc(rng *rand.Rand) json.RawMessage {
	doc := map[string]any{}
	if rng.IntN(3) > 0 {
		doc["title"] = word(rng, rng.IntN(3)+1)
	}
	if rng.IntN(2) == 0 {
		doc[enterpriseURN] = map[string]any{"employeeNumber": word(rng, rng.IntN(2)+1)}
	}
	var addrs []any
	for j := rng.IntN(3); j > 0; j-- {
		a := map[string]any{"type": types[rng.IntN(len(types))], "locality": word(rng, rng.IntN(2)+1)}
		if rng.IntN(3) == 0 {
			a["primary"] = rng.IntN(2) == 0
		}
		addrs = append(addrs, a)
	}
	if addrs != nil {
		doc["addresses"] = addrs
	}
	if len(doc) == 0 {
		return nil
	}
	b, _ := json.Marshal(doc)
	return b
}

func randomDocTerm(rng *rand.Rand) orgsync.Filter {
	op := stringOps[rng.IntN(len(stringOps))]
	if rng.IntN(2) == 0 {
		return orgsync.Filter{Op: op, Attr: orgsync.AttrDocument, Path: []string{"title"}, Value: word(rng, rng.IntN(3))}
	}
	return orgsync.Filter{Op: op, Attr: orgsync.AttrDocument, Path: []string{enterpriseURN, "employeeNumber"}, CaseExact: true, Value: word(rng, rng.IntN(3))}
}

func randomAddressTerm(rng *rand.Rand) orgsync.Filter {
	switch rng.IntN(3) {
	case 0:
		return orgsync.Filter{Op: []orgsync.FilterOp{orgsync.FilterEq, orgsync.FilterNe}[rng.IntN(2)], Attr: orgsync.AttrDocument, Path: []string{"primary"}, Value: rng.IntN(2) == 0}
	case 1:
		return orgsync.Filter{Op: stringOps[rng.IntN(len(stringOps))], Attr: orgsync.AttrDocument, Path: []string{"type"}, Value: types[rng.IntN(len(types))]}
	}
	return orgsync.Filter{Op: stringOps[rng.IntN(len(stringOps))], Attr: orgsync.AttrDocument, Path: []string{"locality"}, Value: word(rng, rng.IntN(3))}
}

func evalDocAny(f *orgsync.Filter, m *orgsync.Member) bool {
	var doc map[string]any
	_ = json.Unmarshal(m.Attributes, &doc)
	list, _ := docAt(doc, f.Path).([]any)
	for _, e := range list {
		if obj, ok := e.(map[string]any); ok && evalDocTerm(&f.Children[0], obj) {
			return true
		}
	}
	return false
}

func evalDocTerm(f *orgsync.Filter, obj map[string]any) bool {
	if f.Op == orgsync.FilterAnd {
		return evalDocTerm(&f.Children[0], obj) && evalDocTerm(&f.Children[1], obj)
	}
	v := docAt(obj, f.Path)
	if want, ok := f.Value.(bool); ok {
		have, _ := v.(bool)
		return (have == want) == (f.Op == orgsync.FilterEq)
	}
	if f.Op == orgsync.FilterPresent {
		s, _ := v.(string)
		return v != nil && (s != "" || !isString(v))
	}
	s, _ := v.(string)
	if !f.CaseExact {
		s = strings.ToLower(s)
	}
	return cmpText(f, s, !f.CaseExact)
}

func isString(v any) bool { _, ok := v.(string); return ok }

func docAt(obj map[string]any, path []string) any {
	var v any = obj
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
