package hardening

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
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
