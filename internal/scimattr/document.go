package scimattr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Bounds on a User document.
const (
	MaxValues   = 100      // values of one multi-valued attribute
	MaxString   = 1024     // bytes of one string or reference
	MaxBinary   = 16 << 10 // bytes of one binary value (a certificate)
	MaxDocBytes = 64 << 10 // bytes of one encoded document
)

// ErrTooLarge is the error of a document that encodes to more than
// MaxDocBytes.
var ErrTooLarge = errors.New("the user's attributes encode to more than 65536 bytes")

// ValueError is a value of the wrong type or size; Attr names the attribute
// (dotted for a sub-attribute).
type ValueError struct {
	Attr    string
	Problem string
}

func (e *ValueError) Error() string { return e.Attr + " " + e.Problem }

func bad(name, format string, a ...any) error {
	return &ValueError{Attr: name, Problem: fmt.Sprintf(format, a...)}
}

// Value returns v as a value of a in canonical form: sub-attributes under
// their canonical names, unknown ones dropped, booleans as bool (Bool's
// lenient strings too), and nil for an unassigned value (null, "", [],
// an object with nothing kept; RFC 7643 §2.5). A value of the wrong type
// or size is an *ValueError naming name.
func Value(a *Attr, name string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case TypeBoolean:
		b, ok := Bool(v)
		if !ok {
			return nil, bad(name, "must be a boolean")
		}
		return b, nil
	case TypeComplex:
		if a.Multi {
			return multiValue(a, name, v)
		}
		if a.StringIsValue { // the legacy forms: "id" and [{"value": "id"}]
			if l, ok := v.([]any); ok && len(l) == 1 {
				v = l[0]
			}
			if s, ok := v.(string); ok {
				v = map[string]any{"value": s}
			}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, bad(name, "must be an object")
		}
		return object(a, name, obj)
	}
	s, ok := v.(string)
	if !ok {
		return nil, bad(name, "must be a string")
	}
	limit := MaxString
	if a.Type == TypeBinary {
		limit = MaxBinary
	}
	if len(s) > limit {
		return nil, bad(name, "is longer than %d bytes", limit)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, bad(name, "must not contain NUL")
	}
	if s == "" {
		return nil, nil
	}
	return s, nil
}

func multiValue(a *Attr, name string, v any) (any, error) {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil, bad(name, "must be an array of objects")
	}
	if len(list) > MaxValues {
		return nil, bad(name, "holds %d values; at most %d are kept", len(list), MaxValues)
	}
	out := make([]any, 0, len(list))
	primaries := 0
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, bad(name, "must be an array of objects")
		}
		e, err := object(a, name, obj)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		if p, _ := e.(map[string]any)["primary"].(bool); p {
			primaries++
		}
		out = append(out, e)
	}
	if primaries > 1 {
		return nil, bad(name+".primary", "is true for %d values; at most one may be primary", primaries)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func object(a *Attr, name string, obj map[string]any) (any, error) {
	out := map[string]any{}
	for i := range a.Subs {
		sub := &a.Subs[i]
		raw, ok := Get(obj, sub.Name)
		if !ok {
			continue
		}
		v, err := Value(sub, name+"."+sub.Name, raw)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[sub.Name] = v
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// ReadUser returns the document of a User resource res (a decoded body or
// a document): the attributes of UserDoc and, under EnterpriseUser, those
// of EnterpriseDoc, in canonical form; nil when it has none. Everything
// else is ignored. A wrong value is an *ValueError; a document larger than
// MaxDocBytes is ErrTooLarge.
func ReadUser(res map[string]any) (map[string]any, error) {
	doc := map[string]any{}
	if err := readInto(doc, UserDoc, res, ""); err != nil {
		return nil, err
	}
	if raw, ok := Get(res, EnterpriseUser); ok && raw != nil {
		obj, isObj := raw.(map[string]any)
		if !isObj {
			return nil, bad(EnterpriseUser, "must be an object")
		}
		ext := map[string]any{}
		if err := readInto(ext, EnterpriseDoc, obj, EnterpriseUser+":"); err != nil {
			return nil, err
		}
		if len(ext) > 0 {
			doc[EnterpriseUser] = ext
		}
	}
	if len(doc) == 0 {
		return nil, nil
	}
	if b, _ := json.Marshal(doc); len(b) > MaxDocBytes {
		return nil, ErrTooLarge
	}
	return doc, nil
}

func readInto(dst map[string]any, attrs []Attr, src map[string]any, prefix string) error {
	for i := range attrs {
		a := &attrs[i]
		raw, ok := Get(src, a.Name)
		if !ok {
			continue
		}
		v, err := Value(a, prefix+a.Name, raw)
		if err != nil {
			return err
		}
		if v != nil {
			dst[a.Name] = v
		}
	}
	return nil
}

// Encode is the stored form of doc: its JSON with sorted keys, or nil for
// an empty document.
func Encode(doc map[string]any) []byte {
	if len(doc) == 0 {
		return nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil // a document of decoded JSON values always encodes
	}
	return b
}

// Decode reads a stored document; nil or empty is an empty document.
func Decode(raw []byte) (map[string]any, error) {
	if len(raw) == 0 {
		return map[string]any{}, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("scimattr: stored document: %w", err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return doc, nil
}
