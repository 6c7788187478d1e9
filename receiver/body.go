package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// Limits on a request body, checked before it is decoded.
const (
	maxDepth      = 16    // nesting of objects and arrays
	maxArrayItems = 10000 // elements of one array (members of a group PUT)
)

// readAs reads the request body and parses it with parse; on an error it
// answers the request and returns false.
func readAs[T any](s *Server, w http.ResponseWriter, r *http.Request, parse func(map[string]any) (T, error)) (T, bool) {
	var zero T
	doc, err := readBody(r, s.opts.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return zero, false
	}
	v, err := parse(doc)
	if err != nil {
		s.fail(w, r, err)
		return zero, false
	}
	return v, true
}

// readBody reads and checks the JSON object of a request: size (413),
// media type (415), syntax, depth, array sizes and NUL characters (400).
func readBody(r *http.Request, limit int64) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/scim+json" || mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			return nil, errorf(http.StatusUnsupportedMediaType, "", "Content-Type must be application/scim+json or application/json")
		}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes", limit)
		}
		return nil, badRequest(typeInvalidSyntax, "cannot read the request body")
	}
	if int64(len(raw)) > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes", limit)
	}
	if err := checkShape(raw); err != nil {
		return nil, err
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, badRequest(typeInvalidSyntax, "the request body must be one JSON object")
	}
	return doc, nil
}

// checkShape walks the JSON tokens once, refusing invalid JSON, trailing
// data, deep nesting, huge arrays and strings holding NUL (which no
// attribute may contain and PostgreSQL cannot store).
func checkShape(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		array bool
		n     int
	}
	var stack []frame
	seen := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !seen {
				return badRequest(typeInvalidSyntax, "the request body is empty")
			}
			return nil
		}
		if err != nil {
			return badRequest(typeInvalidSyntax, "the request body is not valid JSON")
		}
		if len(stack) == 0 && seen {
			return badRequest(typeInvalidSyntax, "the request body holds more than one JSON value")
		}
		seen = true
		if len(stack) > 0 && stack[len(stack)-1].array {
			top := &stack[len(stack)-1]
			if d, ok := tok.(json.Delim); !ok || (d != ']') {
				top.n++
				if top.n > maxArrayItems {
					return badRequest(typeInvalidValue, "an array holds more than %d elements", maxArrayItems)
				}
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, frame{array: v == '['})
				if len(stack) > maxDepth {
					return badRequest(typeInvalidSyntax, "the request body is nested deeper than %d levels", maxDepth)
				}
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return badRequest(typeInvalidValue, "strings must not contain NUL characters")
			}
		}
	}
}

// fields gives case-insensitive access to the attributes of a JSON object
// (RFC 7643 §2.1: attribute names are case-insensitive), by the rule the
// SCIM source shares (scimattr.Get): an exact spelling wins, then the
// first matching key in byte order.
type fields map[string]any

func fieldsOf(m map[string]any) fields { return fields(m) }

func (f fields) has(name string) bool {
	_, ok := scimattr.Get(f, name)
	return ok
}

func (f fields) get(name string) any {
	v, _ := scimattr.Get(f, name)
	return v
}

// hasSchema reports whether the object's schemas array names urn.
func hasSchema(f fields, urn string) (present, ok bool) {
	v, present := scimattr.Get(f, "schemas")
	if !present || v == nil {
		return false, false
	}
	list, isList := v.([]any)
	if !isList {
		return true, false
	}
	for _, s := range list {
		if str, _ := s.(string); strings.EqualFold(str, urn) {
			return true, true
		}
	}
	return true, false
}
