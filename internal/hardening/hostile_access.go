package hardening

import (
	"fmt"
	"net/url"
	"strings"
)

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
