package hardening

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Target is what the generator aims at: a SCIM base URL, a token of one
// org, resources of that org, and what of another org must never leak.
type Target struct {
	// Base is the SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2.
	Base  string
	Token string
	// UserID, GroupID name a user and a group of the token's org; UserName
	// is that user's userName (its case and fold variants must clash).
	UserID, GroupID, UserName string
	// OtherUserID, OtherGroupID belong to another org: every request on
	// them must be answered 404.
	OtherUserID, OtherGroupID string
	// Forbidden strings (the other org's ids and names) must never appear
	// in an answer.
	Forbidden []string
}

// Request is one hostile request. Path is relative to Target.Base and may
// carry a raw (already encoded) query; ReadOnly requests may succeed, the
// others must be refused with a 4xx.
type Request struct {
	Kind     string
	Method   string
	Path     string
	Header   map[string]string
	Body     []byte
	NoAuth   bool
	ReadOnly bool
	// Want, when set, is the only acceptable status.
	Want int
}

const (
	coreUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchOp   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	staleETag = `W/"987654321"`
)

// Injections are strings aimed at SQL, LDAP, JSON and Unicode handling.
var Injections = []string{
	`' OR '1'='1`, `"; DROP TABLE members; --`, `\" or 1=1 --`, `%' --`, `_%`, `%`, `_`,
	`') UNION SELECT hash FROM scim_tokens --`, `1; SELECT pg_sleep(5)`, `$1`, `?`,
	`*)(uid=*))(|(uid=*`, `*`, `\2a`, `admin)(&)`, `cn=admin,dc=example,dc=org`,
	"\u202Eevil.exe", "e\u0301", "\u212Aelvin", "\ufb00", "\u0130", "\ufeffbom", "\u200b", "\u00a0",
	"\xc0\xaf", "\xed\xa0\x80", "\xff\xfe", "\xe0\x80\xaf", "a" + strings.Repeat("\u0301", 300), "😀\U0010FFFF",
	"\x00", "a\x00b", "\\u0000", `\`, `"`, `{}`, `[]`, `${jndi:ldap://x/a}`, `{{7*7}}`, "../../etc/passwd",
	strings.Repeat("A", 5000),
}

// Generate returns n hostile requests for t, deterministic for seed.
func Generate(seed uint64, n int, t Target) []Request {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x6f7267)), t: t}
	out := g.fixed()
	kinds := []func() Request{g.filterInjection, g.badFilter, g.paging, g.badJSON, g.deep, g.huge, g.contentType,
		g.noSchemas, g.clash, g.stale, g.traversal, g.otherOrg, g.methods, g.headers, g.mutated, g.badPatch}
	for len(out) < n {
		out = append(out, kinds[g.rng.IntN(len(kinds))]())
	}
	return out[:n]
}

type gen struct {
	rng *rand.Rand
	t   Target
	seq int
}

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }
func (g *gen) inj() string               { return g.pick(Injections) }

// jsonString renders s as a JSON string literal, invalid UTF-8 kept raw
// (encoding/json would replace it) so the server sees the bytes.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	var out strings.Builder
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&out, `\u%04x`, c)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte('"')
	_ = b
	return out.String()
}

func q(s string) string { return url.QueryEscape(s) }

// fixed are requests made once: failed authentications (few, so the
// failed-auth limit is not reached by one run) and protocol oddities.
func (g *gen) fixed() []Request {
	return []Request{
		{Kind: "auth", Method: "GET", Path: "/Users", NoAuth: true, Want: 401},
		{Kind: "auth", Method: "GET", Path: "/Users", NoAuth: true, Header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}, Want: 401},
		{Kind: "auth", Method: "GET", Path: "/Users", NoAuth: true, Header: map[string]string{"Authorization": "Bearer "}, Want: 401},
		{Kind: "auth", Method: "GET", Path: "/Users", NoAuth: true, Header: map[string]string{"Authorization": "Bearer osk_' OR '1'='1"}, Want: 401},
		{Kind: "auth", Method: "DELETE", Path: "/Users/" + g.t.UserID, NoAuth: true, Header: map[string]string{"Authorization": "Bearer " + g.t.Token + "x"}, Want: 401},
		{Kind: "auth", Method: "GET", Path: "/Users", NoAuth: true, Header: map[string]string{"Authorization": "Bearer " + strings.Repeat("osk_", 1000)}, Want: 401},
		{Kind: "method", Method: "GET", Path: "/Users/" + g.t.UserID, Header: map[string]string{"X-HTTP-Method-Override": "DELETE"}, ReadOnly: true, Want: 200},
		{Kind: "method", Method: "POST", Path: "/Users/" + g.t.UserID, Header: map[string]string{"X-HTTP-Method-Override": "DELETE"}, Body: []byte(`{}`)},
		// Within the length limit, but nested past the depth limit: refused
		// before the parser spends its quadratic time.
		{Kind: "bad-filter", Method: "GET", Path: "/Users?filter=" + q(strings.Repeat("(", 2000)+`userName pr`+strings.Repeat(")", 2000)), ReadOnly: true, Want: 400},
		// Null is not "no value": it must not empty the group.
		{Kind: "bad-patch", Method: "PATCH", Path: "/Groups/" + g.t.GroupID, Want: 400,
			Body: []byte(`{"schemas":["` + patchOp + `"],"Operations":[{"op":"remove","path":"members","value":null}]}`)},
	}
}

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

func (g *gen) stale() Request {
	switch g.rng.IntN(5) {
	case 0:
		body := fmt.Sprintf(`{"schemas":["%s"],"userName":%s,"displayName":%s,"active":false}`, coreUser, jsonString(g.t.UserName), jsonString(g.benign()))
		return Request{Kind: "stale-etag", Method: "PUT", Path: "/Users/" + g.t.UserID, Body: []byte(body), Header: map[string]string{"If-Match": staleETag}, Want: 412}
	case 1:
		body := fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"replace","path":"displayName","value":%s},{"op":"replace","path":"active","value":false}]}`, patchOp, jsonString(g.benign()))
		return Request{Kind: "stale-etag", Method: "PATCH", Path: "/Users/" + g.t.UserID, Body: []byte(body), Header: map[string]string{"If-Match": staleETag}, Want: 412}
	case 2:
		body := fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"remove","path":"members"},{"op":"replace","path":"displayName","value":%s}]}`, patchOp, jsonString(g.benign()))
		return Request{Kind: "stale-etag", Method: "PATCH", Path: "/Groups/" + g.t.GroupID, Body: []byte(body), Header: map[string]string{"If-Match": staleETag}, Want: 412}
	case 3:
		return Request{Kind: "stale-etag", Method: "DELETE", Path: "/" + g.pick([]string{"Users/" + g.t.UserID, "Groups/" + g.t.GroupID}), Header: map[string]string{"If-Match": g.pick([]string{staleETag, `"1"x`, `W/`, `W/"-1"`, `W/"99999999999999999999"`})}}
	default:
		body := fmt.Sprintf(`{"schemas":["%s"],"displayName":%s,"members":[]}`, coreGroup, jsonString(g.benign()))
		return Request{Kind: "stale-etag", Method: "PUT", Path: "/Groups/" + g.t.GroupID, Body: []byte(body), Header: map[string]string{"If-Match": staleETag}}
	}
}

var traversalIDs = []string{
	"..", "../Groups", "..%2fGroups", "%2e%2e%2f%2e%2e%2fapi%2fv1%2fruns", "%2e%2e", "..%5c..%5c", "x%00", "%00", "%ff%fe",
	"a%2Fb", "....//....//", "%252e%252e%252f", "..;/", "%c0%ae%c0%ae%2f", "*", "%25", "'%20OR%20'1'='1", "1;DROP%20TABLE%20members",
	"%20", "%E2%80%AE", "id?x=1", "x#frag", strings.Repeat("a", 300), strings.Repeat("%2e", 200),
}

func (g *gen) traversal() Request {
	m := g.pick([]string{"GET", "PUT", "PATCH", "DELETE"})
	res := g.pick([]string{"Users", "Groups", "Schemas", "ResourceTypes"})
	var body []byte
	if m == "PUT" || m == "PATCH" {
		body = []byte(fmt.Sprintf(`{"schemas":["%s","%s"],"userName":"t@example.org","Operations":[{"op":"remove","path":"members"}]}`, coreUser, patchOp))
	}
	return Request{Kind: "traversal", Method: m, Path: "/" + res + "/" + g.pick(traversalIDs), Body: body, ReadOnly: m == "GET"}
}

// otherOrg aims at the other org's resources: always 404.
func (g *gen) otherOrg() Request {
	m := g.pick([]string{"GET", "PUT", "PATCH", "DELETE"})
	user := g.rng.IntN(2) == 0
	path, body := "/Groups/"+g.t.OtherGroupID, fmt.Sprintf(`{"schemas":["%s","%s"],"displayName":"taken","Operations":[{"op":"remove","path":"members"}]}`, coreGroup, patchOp)
	if user {
		path, body = "/Users/"+g.t.OtherUserID, fmt.Sprintf(`{"schemas":["%s","%s"],"userName":"taken@example.org","active":false,"Operations":[{"op":"replace","path":"active","value":false}]}`, coreUser, patchOp)
	}
	r := Request{Kind: "other-org", Method: m, Path: path, Want: 404}
	if m == "PUT" || m == "PATCH" {
		r.Body = []byte(body)
	}
	if g.rng.IntN(3) == 0 { // a reference to another org's member
		id := g.t.OtherUserID
		r = Request{Kind: "other-org", Method: "PATCH", Path: "/Groups/" + g.t.GroupID,
			Body: []byte(fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"add","path":"members","value":[{"value":%s}]}]}`, patchOp, jsonString(id)))}
		if g.rng.IntN(2) == 0 {
			r.Method, r.Path = "POST", "/Groups"
			r.Body = []byte(fmt.Sprintf(`{"schemas":["%s"],"displayName":"steal-%d","members":[{"value":%s}]}`, coreGroup, g.rng.IntN(1e9), jsonString(id)))
		}
	}
	return r
}

func (g *gen) methods() Request {
	cases := []Request{
		{Method: "PUT", Path: "/Users", Body: []byte(`{}`)},
		{Method: "DELETE", Path: "/Users"},
		{Method: "PATCH", Path: "/Groups", Body: []byte(`{}`)},
		{Method: "DELETE", Path: "/Groups"},
		{Method: "POST", Path: "/Groups/" + g.t.GroupID, Body: []byte(`{"schemas":["` + coreGroup + `"],"displayName":"x"}`)},
		{Method: "POST", Path: "/ServiceProviderConfig", Body: []byte(`{}`)},
		{Method: "DELETE", Path: "/Schemas"},
		{Method: "PUT", Path: "/ResourceTypes/User", Body: []byte(`{}`)},
		{Method: "TRACE", Path: "/Users"},
		{Method: "CONNECT", Path: "/Users"},
		{Method: "PROPFIND", Path: "/Users"},
		{Method: "DELETE", Path: "/Bulk"},
		{Method: "POST", Path: "/Bulk", Body: []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"DELETE","path":"/Users/` + g.t.UserID + `"}]}`)},
		{Method: "GET", Path: "/Me", ReadOnly: true},
		{Method: "HEAD", Path: "/Users/" + g.t.UserID, ReadOnly: true},
		{Method: "OPTIONS", Path: "/Users", ReadOnly: true},
	}
	r := cases[g.rng.IntN(len(cases))]
	r.Kind = "method"
	return r
}

func (g *gen) headers() Request {
	h := map[string]string{}
	switch g.rng.IntN(4) {
	case 0:
		h["X-Junk"] = strings.Repeat("j", 70<<10) // over MaxHeaderBytes: 431
	case 1:
		h["Accept"] = g.pick([]string{"text/html", "application/xml", "*/*;q=0", "\x7f"})
	case 2:
		h["If-None-Match"] = g.inj()
		h["X-Forwarded-For"] = "1.2.3.4, " + g.inj()
	default:
		h["Content-Length-Fake"] = "-1"
		h["Transfer-Encoding-Fake"] = "chunked"
	}
	for k := range h {
		if strings.ContainsAny(h[k], "\x00\r\n\x7f") {
			h[k] = url.QueryEscape(h[k])
		}
	}
	return Request{Kind: "headers", Method: "GET", Path: "/Users/" + g.t.UserID, Header: h, ReadOnly: true}
}

var mutationSeeds = []string{
	`{"userName":"m@example.org","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"m@example.org","type":"work","primary":true}],"active":true}`,
	`{"displayName":"grp","members":[{"value":"x"},{"value":"y"}]}`,
	`{"schemas":["` + patchOp + `"],"Operations":[{"op":"add","path":"members","value":[{"value":"a"}]},{"op":"replace","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
}

// mutated flips, inserts and deletes bytes of valid-looking bodies; posted
// without the core schema, or as updates with a stale ETag.
func (g *gen) mutated() Request {
	b := []byte(g.pick(mutationSeeds))
	for i := g.rng.IntN(8) + 1; i > 0 && len(b) > 0; i-- {
		at := g.rng.IntN(len(b))
		switch g.rng.IntN(3) {
		case 0:
			b[at] = byte(g.rng.IntN(256))
		case 1:
			b = append(b[:at], append([]byte{byte(g.rng.IntN(256))}, b[at:]...)...)
		default:
			b = append(b[:at], b[at+1:]...)
		}
	}
	m, p := g.write()
	return Request{Kind: "mutated", Method: m, Path: p, Body: b, Header: g.staleFor(m)}
}

var badPaths = []string{
	`userName[`, `emails[type eq "work"`, `emails[type eq "work"].value.extra`, `members[value eq "a"`, `name..givenName`, `.`, ``,
	`urn:ietf:params:scim:schemas:core:2.0:User:`, `meta.version`, `id`, `schemas`, `emails[value co "' OR 1=1 --"]`,
	`emails[` + strings.Repeat(`not (`, 300) + `type pr` + strings.Repeat(`)`, 300) + `].value`, `members[value eq "*)(uid=*"]`,
}

func (g *gen) badPatch() Request {
	op := g.pick([]string{"add", "remove", "replace", "Replace", "REMOVE", "move", "copy", "test", ""})
	body := fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":%s,"path":%s,"value":%s}]}`, patchOp, jsonString(op), jsonString(g.pick(badPaths)),
		g.pick([]string{`"x"`, `null`, `[]`, `{}`, `[{"value":"a"}]`, `"False"`, `{"a":{"b":{"c":1}}}`, jsonString(g.inj())}))
	path := "/Users/" + g.t.UserID
	if g.rng.IntN(2) == 0 {
		path = "/Groups/" + g.t.GroupID
	}
	return Request{Kind: "bad-patch", Method: "PATCH", Path: path, Body: []byte(body), Header: map[string]string{"If-Match": staleETag}}
}
