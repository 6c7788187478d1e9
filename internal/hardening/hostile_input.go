package hardening

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

var filterShapes = []string{
	`userName eq %s`, `userName co %s`, `userName sw %s`, `userName ew %s`, `displayName eq %s`, `externalId eq %s`,
	`id eq %s`, `emails[value eq %s]`, `emails[type eq "work"].value eq %s`, `emails.value co %s`, `name.givenName gt %s`,
	`meta.lastModified gt %s`, `not (userName eq %s)`, `userName eq %s or userName pr`, `members[value eq %s]`, `active eq %s`,
}

func (g *gen) filterInjection() Request {
	val := g.inj()
	lit := jsonString(val)
	if g.rng.IntN(4) == 0 {
		lit = val // unquoted: mostly invalid
	}
	f := fmt.Sprintf(g.pick(filterShapes), lit)
	res := g.pick([]string{"Users", "Groups"})
	return Request{Kind: "filter-injection", Method: "GET", Path: "/" + res + "?filter=" + q(f), ReadOnly: true}
}

var badFilters = []string{
	`userName eq`, `userName zz "a"`, `(`, `)`, `not`, `userName eq "a" and`, `and or not`, `userName eq "a" "b"`,
	`emails[type eq "work"`, `emails[[type eq "x"]]`, `a.b.c.d.e eq 1`, `userName eq 'single'`, `userName eq "unterminated`,
	`userName pr pr`, `meta.lastModified gt "not a date"`, `active eq "maybe"`, `userName eq 1e999999`, `userName eq -`,
	strings.Repeat("(", 5000) + `userName pr` + strings.Repeat(")", 5000), strings.Repeat(`userName pr or `, 2000) + `userName pr`,
	`urn:ietf:params:scim:schemas:core:2.0:User:password eq "x"`, `password pr`, `members.value eq "x"`,
}

func (g *gen) badFilter() Request {
	f := g.pick(badFilters)
	return Request{Kind: "bad-filter", Method: "GET", Path: "/" + g.pick([]string{"Users", "Groups"}) + "?filter=" + q(f), ReadOnly: true}
}

var pagingValues = []string{"0", "-1", "-9223372036854775808", "9223372036854775807", "99999999999999999999", "1e9", "abc", "", "1.5", "0x10", "+5", " 3", "%00"}

func (g *gen) paging() Request {
	p := "/" + g.pick([]string{"Users", "Groups"}) + "?"
	switch g.rng.IntN(4) {
	case 0:
		p += "count=" + q(g.pick(pagingValues)) + "&startIndex=" + q(g.pick(pagingValues))
	case 1:
		p += "sortBy=" + q(g.inj()) + "&sortOrder=" + q(g.pick([]string{"ascending", "sideways", "' --"}))
	case 2:
		p += "attributes=" + q(g.inj()) + "&excludedAttributes=" + q(g.pick([]string{"members", "id", "password", "emails[", g.inj()}))
	default:
		p += "count=1000000&startIndex=1&filter=" + q(`userName pr`)
	}
	return Request{Kind: "paging", Method: "GET", Path: p, ReadOnly: true}
}

var badBodies = []string{
	``, `{`, `}`, `{"schemas":`, `[]`, `null`, `"str"`, `1`, `{"a":1}{"b":2}`, `{"a":1} x`, `{"userName":"\u0000"}`,
	"{\"userName\":\"a\x00\"}", "\xff\xfe{\x00}", `{"userName":"\ud800"}`, `{"schemas":["` + coreUser + `"],"userName":}`,
	`{"schemas":["` + coreUser + `"],"userName":"x",}`, `{'userName':'x'}`, `{"schemas":"` + coreUser + `","userName":"y"}`,
	`{"schemas":["` + coreUser + `"],"userName":null}`, `{"schemas":["` + coreUser + `"],"userName":""}`,
	`{"schemas":["` + coreUser + `"],"userName":["a"]}`, `{"schemas":["` + coreUser + `"],"userName":{"$ne":1}}`,
	`{"schemas":["` + coreUser + `"],"userName":"ok@example.org","emails":"notalist"}`,
	`{"schemas":["` + coreUser + `"],"userName":"ok2@example.org","active":"perhaps"}`,
	`{"schemas":["` + coreGroup + `"],"displayName":["x"]}`, `{"schemas":["` + coreGroup + `"],"displayName":"g","members":"all"}`,
	`{"schemas":["` + coreGroup + `"],"displayName":"g2","members":[{"value":{"$gt":""}}]}`,
	`{"schemas":["` + patchOp + `"],"Operations":"x"}`, `{"schemas":["` + patchOp + `"],"Operations":[{"op":"explode"}]}`,
}

// write returns a method and path that writes to the org's resources.
func (g *gen) write() (string, string) {
	switch g.rng.IntN(6) {
	case 0:
		return "POST", "/Users"
	case 1:
		return "POST", "/Groups"
	case 2:
		return "PUT", "/Users/" + g.t.UserID
	case 3:
		return "PATCH", "/Users/" + g.t.UserID
	case 4:
		return "PUT", "/Groups/" + g.t.GroupID
	default:
		return "PATCH", "/Groups/" + g.t.GroupID
	}
}

func (g *gen) badJSON() Request {
	m, p := g.write()
	return Request{Kind: "bad-json", Method: m, Path: p, Body: []byte(g.pick(badBodies)), Header: g.staleFor(m)}
}

// staleFor adds a stale If-Match to updates, so a body that happens to be
// valid still changes nothing (412).
func (g *gen) staleFor(method string) map[string]string {
	if method == "PUT" || method == "PATCH" || method == "DELETE" {
		return map[string]string{"If-Match": staleETag}
	}
	return nil
}

func (g *gen) deep() Request {
	m, p := g.write()
	depth := 17 + g.rng.IntN(20000)
	var b bytes.Buffer
	b.WriteString(`{"schemas":["` + coreUser + `"],"userName":"deep@example.org","x":`)
	open, close := "[", "]"
	if g.rng.IntN(2) == 0 {
		open, close = `{"a":`, "}"
	}
	b.WriteString(strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth) + "}")
	return Request{Kind: "deep", Method: m, Path: p, Body: b.Bytes(), Header: g.staleFor(m)}
}

func (g *gen) huge() Request {
	m, p := g.write()
	var body []byte
	switch g.rng.IntN(3) {
	case 0: // over the 1 MiB limit
		body = []byte(`{"schemas":["` + coreUser + `"],"userName":"huge@example.org","displayName":"` + strings.Repeat("x", 1<<20+g.rng.IntN(1<<20)) + `"}`)
	case 1: // an array with too many elements, under the size limit
		body = []byte(`{"schemas":["` + coreGroup + `"],"displayName":"huge","members":[` + strings.TrimSuffix(strings.Repeat(`1,`, 20001), ",") + `]}`)
	default: // a long attribute, under the size limit
		body = []byte(`{"schemas":["` + coreUser + `"],"userName":"` + strings.Repeat("l", 2000+g.rng.IntN(100000)) + `@example.org"}`)
	}
	return Request{Kind: "huge", Method: m, Path: p, Body: body, Header: g.staleFor(m)}
}

func (g *gen) fresh() string {
	g.seq++
	return fmt.Sprintf("hostile-%d-%d@example.org", g.seq, g.rng.IntN(1e9))
}

func (g *gen) contentType() Request {
	ct := g.pick([]string{"text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
		"text/json", "application/scim+xml", ";;;", "application/json; charset=utf-8; x=\"unterminated", "image/png", "a/b/c"})
	body := `{"schemas":["` + coreUser + `"],"userName":"` + g.fresh() + `"}`
	path := "/Users"
	if g.rng.IntN(2) == 0 {
		body, path = `{"schemas":["`+coreGroup+`"],"displayName":"ct-`+g.fresh()+`"}`, "/Groups"
	}
	return Request{Kind: "content-type", Method: "POST", Path: path, Body: []byte(body), Header: map[string]string{"Content-Type": ct}, Want: 415}
}

func (g *gen) noSchemas() Request {
	if g.rng.IntN(2) == 0 {
		body := fmt.Sprintf(`{"userName":%s,"externalId":%s,"displayName":%s,"emails":[{"value":%s}]}`,
			jsonString(g.inj()+g.fresh()), jsonString(g.inj()), jsonString(g.inj()), jsonString(g.inj()))
		return Request{Kind: "no-schemas", Method: "POST", Path: "/Users", Body: []byte(body)}
	}
	body := fmt.Sprintf(`{"schemas":["urn:example:evil"],"displayName":%s,"members":[{"value":%s}]}`, jsonString(g.inj()+g.fresh()), jsonString(g.inj()))
	return Request{Kind: "no-schemas", Method: "POST", Path: "/Groups", Body: []byte(body)}
}

// clash posts userName variants that fold to an existing userName.
func (g *gen) clash() Request {
	n := g.t.UserName
	variants := []string{strings.ToUpper(n), " " + n + " ", strings.ReplaceAll(n, "k", "\u212a"), strings.ReplaceAll(strings.ToUpper(n), "K", "\u212a"),
		strings.ToUpper(n[:1]) + n[1:], n + "\t", n}
	body := fmt.Sprintf(`{"schemas":["%s"],"userName":%s,"displayName":%s}`, coreUser, jsonString(g.pick(variants)), jsonString(g.inj()))
	return Request{Kind: "clash", Method: "POST", Path: "/Users", Body: []byte(body)} // 409, or 400 for a bad displayName
}

// benign is an injection the receiver accepts as a value (no NUL, not too
// long, valid UTF-8), so that only the ETag can refuse the write.
func (g *gen) benign() string {
	for {
		s := g.inj()
		if len(s) < 1000 && strings.TrimSpace(s) == s && s != "" && !strings.ContainsRune(s, 0) && utf8.ValidString(s) && !strings.Contains(s, "\\u0000") {
			return s
		}
	}
}
