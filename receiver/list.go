package receiver

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/orgsync/orgsync"
)

// listParams are the query parameters of a list (or .search) request.
type listParams struct {
	query orgsync.Query
	proj  projection
}

// parseList reads filter, startIndex, count, attributes and
// excludedAttributes. Per RFC 7644 §3.4.2.4, startIndex below 1 is 1 and a
// negative count is 0; count is capped at maxResults. sortBy and
// sortOrder are ignored (sort is declared unsupported).
func parseList(resource string, v url.Values, defaultCount, maxResults int) (listParams, error) {
	var p listParams
	p.query.StartIndex, p.query.Count = 1, defaultCount
	if raw := v.Get("startIndex"); raw != "" {
		n, err := parseInt(raw, "startIndex")
		if err != nil {
			return p, err
		}
		p.query.StartIndex = max(n, 1)
	}
	if raw := v.Get("count"); raw != "" {
		n, err := parseInt(raw, "count")
		if err != nil {
			return p, err
		}
		p.query.Count = min(max(n, 0), maxResults)
	}
	if raw := v.Get("filter"); raw != "" {
		f, err := parseFilter(resource, raw)
		if err != nil {
			return p, err
		}
		p.query.Filter = f
	}
	proj, err := parseProjection(resource, v.Get("attributes"), v.Get("excludedAttributes"))
	if err != nil {
		return p, err
	}
	p.proj = proj
	return p, nil
}

// parseInt reads an integer parameter; out-of-range values saturate.
func parseInt(raw, name string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 32)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return int(n), nil // ParseInt returns the saturated bound
		}
		return 0, badRequest(typeInvalidValue, "%s must be an integer", name)
	}
	return int(n), nil
}

// attrRef is one entry of attributes / excludedAttributes: a top-level
// attribute (or extension container) and optionally a sub-attribute, all
// lower case.
type attrRef struct {
	top, sub string
}

// projection selects the attributes of returned resources (RFC 7644
// §3.4.2.5). id and schemas are always returned.
type projection struct {
	include, exclude []attrRef
}

func parseProjection(resource, attrs, excluded string) (projection, error) {
	var p projection
	if attrs != "" && excluded != "" {
		return p, badRequest(typeInvalidValue, "attributes and excludedAttributes are mutually exclusive")
	}
	p.include = parseAttrList(resource, attrs)
	p.exclude = parseAttrList(resource, excluded)
	if attrs != "" && len(p.include) == 0 {
		p.include = []attrRef{{top: "id"}} // only unknown names asked for: id and schemas
	}
	return p, nil
}

func parseAttrList(resource, list string) []attrRef {
	var out []attrRef
	for _, item := range strings.Split(list, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		core, ext := strings.ToLower(coreURN[resource]), strings.ToLower(extURN[resource])
		ent := strings.ToLower(schemaEnterprise)
		switch {
		case strings.HasPrefix(item, core+":"):
			item = strings.TrimPrefix(item, core+":")
		case resource == resourceUsers && item == ent:
			out = append(out, attrRef{top: ent})
			continue
		case resource == resourceUsers && strings.HasPrefix(item, ent+":"):
			out = append(out, attrRef{top: ent, sub: strings.TrimPrefix(item, ent+":")})
			continue
		case item == ext:
			out = append(out, attrRef{top: ext})
			continue
		case strings.HasPrefix(item, ext+":"):
			out = append(out, attrRef{top: ext, sub: strings.TrimPrefix(item, ext+":")})
			continue
		case strings.HasPrefix(item, "urn:"):
			continue // another schema: nothing of it is returned anyway
		}
		top, sub, _ := strings.Cut(item, ".")
		out = append(out, attrRef{top: top, sub: sub})
	}
	return out
}

// wants reports whether the projection returns top-level attribute name
// (lower case) at all: used to skip loading group members.
func (p projection) wants(name string) bool {
	for _, r := range p.exclude {
		if r.top == name && r.sub == "" {
			return false
		}
	}
	if len(p.include) == 0 {
		return true
	}
	for _, r := range p.include {
		if r.top == name {
			return true
		}
	}
	return false
}

// apply returns res reduced to the projection.
func (p projection) apply(res map[string]any) map[string]any {
	if len(p.include) == 0 && len(p.exclude) == 0 {
		return res
	}
	lower := make(map[string]string, len(res))
	for k := range res {
		lower[strings.ToLower(k)] = k
	}
	if len(p.include) > 0 {
		out := map[string]any{"id": res["id"], "schemas": res["schemas"]}
		for _, r := range p.include {
			key, ok := lower[r.top]
			if !ok {
				continue
			}
			if r.sub == "" {
				out[key] = res[key]
				continue
			}
			if v := pick(res[key], r.sub); v != nil {
				out[key] = merge(out[key], v)
			}
		}
		return out
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	for _, r := range p.exclude {
		key, ok := lower[r.top]
		if !ok || key == "id" || key == "schemas" {
			continue
		}
		if r.sub == "" {
			delete(out, key)
			continue
		}
		out[key] = drop(out[key], r.sub)
	}
	return out
}

// pick keeps only sub-attribute sub of a complex value (or of every element
// of a multi-valued one).
func pick(v any, sub string) any {
	first, rest, nested := strings.Cut(sub, ".")
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.ToLower(k) != first {
				continue
			}
			if !nested {
				return map[string]any{k: val}
			}
			if p := pick(val, rest); p != nil {
				return map[string]any{k: p}
			}
		}
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if p := pick(e, sub); p != nil {
				out = append(out, p)
			}
		}
		return out
	}
	return nil
}

// merge combines two picks of the same attribute (name.givenName and
// name.familyName both asked for).
func merge(have, add any) any {
	hm, ok1 := have.(map[string]any)
	am, ok2 := add.(map[string]any)
	if !ok1 || !ok2 {
		if ha, ok := have.([]any); ok {
			if aa, ok := add.([]any); ok && len(ha) == len(aa) {
				out := make([]any, len(ha))
				for i := range ha {
					out[i] = merge(ha[i], aa[i])
				}
				return out
			}
		}
		return add
	}
	out := map[string]any{}
	for k, v := range hm {
		out[k] = v
	}
	for k, v := range am {
		out[k] = v
	}
	return out
}

// drop removes sub-attribute sub from a complex value or from every element
// of a multi-valued one.
func drop(v any, sub string) any {
	switch x := v.(type) {
	case map[string]any:
		first, rest, nested := strings.Cut(sub, ".")
		out := map[string]any{}
		for k, val := range x {
			switch {
			case strings.ToLower(k) != first:
				out[k] = val
			case nested:
				out[k] = drop(val, rest)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = drop(e, sub)
		}
		return out
	}
	return v
}
