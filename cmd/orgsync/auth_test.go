package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"math/bits"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/hardening"
)

// TestTokensAreRandomAndStoredOnlyHashed mints tokens through the CLI and
// the store: each carries 256 random bits (unique, every bit position
// balanced), and no token, nor its random part in any encoding, is found
// anywhere in the database file, its WAL, or a dump of every table.
func TestTokensAreRandomAndStoredOnlyHashed(t *testing.T) {
	cfg := writeConfig(t, "")
	var tokens []string
	for i := 0; i < 20; i++ {
		code, out, errOut := cli(t, cfg, "tokens", "create", "--org", "acme", "--description", "idp")
		if code != 0 {
			t.Fatalf("tokens create: %d %s", code, errOut)
		}
		tokens = append(tokens, strings.TrimSpace(out))
	}
	st := configStore(t, cfg)
	for i := 0; i < 2000; i++ {
		tok, _, err := st.CreateToken(context.Background(), "beta", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}

	seen := map[string]bool{}
	var ones [256]int
	total := 0
	for _, tok := range tokens {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "osk_"))
		if !strings.HasPrefix(tok, "osk_") || err != nil || len(raw) < 32 {
			t.Fatalf("token %q: not osk_ + ≥256 bits of base64url (%d bytes, %v)", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token minted twice: %s", tok)
		}
		seen[tok] = true
		for i, b := range raw[:32] {
			for j := 0; j < 8; j++ {
				ones[i*8+j] += int(b>>j) & 1
			}
			total += bits.OnesCount8(b)
		}
	}
	n := len(tokens)
	for pos, c := range ones { // binomial(n, ½): ±5σ
		if lo, hi := n/2-5*isqrt(n)/2, n/2+5*isqrt(n)/2; c < lo || c > hi {
			t.Fatalf("bit %d is set in %d of %d tokens: not uniformly random", pos, c, n)
		}
	}
	if frac := float64(total) / float64(n*256); frac < 0.49 || frac > 0.51 {
		t.Fatalf("%.4f of the token bits are ones", frac)
	}

	// Closed before the store: the store's close, the last, folds the
	// write-ahead log into the file the scan below reads.
	db := configDB(t, cfg)
	dump, err := hardening.DumpDB(context.Background(), db, false)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	var text bytes.Buffer
	for table, rows := range dump.Tables {
		text.WriteString(table + "\n" + strings.Join(rows, "\n") + "\n")
	}
	dir := filepath.Dir(cfg)
	files, _ := filepath.Glob(filepath.Join(dir, "orgsync.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		text.Write(b)
	}
	hashes := 0
	for _, tok := range tokens {
		raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "osk_"))
		for _, form := range []string{tok, strings.TrimPrefix(tok, "osk_"), hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw)[:40]} {
			if bytes.Contains(text.Bytes(), []byte(form)) {
				t.Fatalf("the database holds a token (as %q)", form)
			}
		}
		sum := sha256.Sum256([]byte(tok))
		if bytes.Contains(text.Bytes(), []byte(hex.EncodeToString(sum[:]))) {
			hashes++
		}
	}
	if hashes != n { // the dump is real: it does hold the hashes
		t.Fatalf("found the hash of %d of %d tokens in the dump", hashes, n)
	}
	t.Logf("%d tokens: unique, 256 bits each, bit balance %.4f; %d rows and %d files searched, no token found", n, float64(total)/float64(n*256), dump.Rows(), len(files))
}

func isqrt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}

// TestTokenComparisonsAreConstantTime checks the source: the SCIM token
// check and the admin token check compare with crypto/subtle and never
// with == on a token or a hash (a timing side channel).
func TestTokenComparisonsAreConstantTime(t *testing.T) {
	for _, tc := range []struct{ file, fn string }{
		{"../../store/tokens.go", "Authenticate"},
		{"../../admin/admin.go", "authorized"},
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, tc.file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		found, subtle := false, false
		ast.Inspect(f, func(n ast.Node) bool {
			fd, ok := n.(*ast.FuncDecl)
			if !ok || fd.Name.Name != tc.fn {
				return true
			}
			found = true
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == "subtle" && x.Sel.Name == "ConstantTimeCompare" {
						subtle = true
					}
				case *ast.BinaryExpr:
					if x.Op != token.EQL && x.Op != token.NEQ {
						break
					}
					l, r := exprString(x.X), exprString(x.Y)
					if secretish(l) && !emptyish(x.Y) || secretish(r) && !emptyish(x.X) {
						t.Errorf("%s: %s compares %s %s %s: not constant time", tc.file, tc.fn, l, x.Op, r)
					}
				}
				return true
			})
			return false
		})
		if !found || !subtle {
			t.Errorf("%s: %s found=%v, uses subtle.ConstantTimeCompare=%v", tc.file, tc.fn, found, subtle)
		}
	}
}

// secretish: an expression that holds a token or its hash.
func secretish(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "hash") || strings.Contains(s, "tok") || s == "h" || s == "got"
}

// emptyish: nil or "", comparisons that reveal nothing of a secret.
func emptyish(e ast.Expr) bool {
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return true
	}
	lit, ok := e.(*ast.BasicLit)
	return ok && (lit.Value == `""` || lit.Value == "0")
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.IndexExpr:
		return exprString(x.X) + "[]"
	case *ast.CallExpr:
		return exprString(x.Fun) + "()"
	}
	return ""
}

// TestFailedAuthIsSlowedThroughServe: after 20 failed authentications from
// one address the real server answers 429 with Retry-After, even to a
// valid token from that address, without looking at it.
func TestFailedAuthIsSlowedThroughServe(t *testing.T) {
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	good, _, _ := a.st.CreateToken(context.Background(), "acme", "idp", 0)
	requireLimited(t, base+"/scim/v2/Users", "osk_wrong", good)
}

// requireLimited fails 20 authentications at url, then requires 429 with a
// Retry-After of 1..60 s for a wrong token and for the right one, good.
func requireLimited(t *testing.T, url, wrong, good string) {
	t.Helper()
	for i := 0; i < 20; i++ {
		if code, _ := do(t, "GET", url, wrong+strconv.Itoa(i), ""); code != 401 {
			t.Fatalf("%s: failure %d answered %d, want 401", url, i+1, code)
		}
	}
	for _, tok := range []string{wrong, good} {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != 429 || ra < 1 || ra > 60 {
			t.Fatalf("%s after 20 failures: %d, Retry-After %q; want 429 and 1..60 s", url, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

// TestFailedAdminAuthIsSlowedThroughServe: the admin API has its own
// failed-authentication limit: after 20 failures from one address it
// answers 429 with Retry-After, even to the right admin token, while SCIM
// clients are not affected.
func TestFailedAdminAuthIsSlowedThroughServe(t *testing.T) {
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	scimTok, _, _ := a.st.CreateToken(context.Background(), "acme", "idp", 0)
	requireLimited(t, base+"/api/v1/runs", "wrong-admin-token", testAdminToken)
	if code, _ := do(t, "GET", base+"/scim/v2/Users", scimTok, ""); code != 200 {
		t.Fatalf("SCIM after admin failures: %d, want 200 (separate limits)", code)
	}
}

// TestExpiredAndRevokedTokensFailAtOnce: a token stops working the moment
// it expires, and the moment `orgsync tokens revoke` (another process's
// store connection) revokes it.
func TestExpiredAndRevokedTokensFailAtOnce(t *testing.T) {
	cfg := writeConfig(t, "")
	base, a, stop := startServe(t, cfg)
	defer stop()
	short, rec, _ := a.st.CreateToken(context.Background(), "acme", "short", 1500*time.Millisecond)
	if code, _ := do(t, "GET", base+"/scim/v2/Users", short, ""); code != 200 {
		t.Fatalf("fresh token: %d", code)
	}
	time.Sleep(time.Until(*rec.ExpiresAt) + 10*time.Millisecond)
	if code, _ := do(t, "GET", base+"/scim/v2/Users", short, ""); code != 401 {
		t.Fatalf("expired token: %d, want 401", code)
	}

	code, out, _ := cli(t, cfg, "tokens", "create", "--org", "acme")
	tok := strings.TrimSpace(out)
	if code != 0 {
		t.Fatal("tokens create failed")
	}
	if code, _ := do(t, "GET", base+"/scim/v2/Users", tok, ""); code != 200 {
		t.Fatalf("new token: %d", code)
	}
	_, out, _ = cli(t, cfg, "tokens", "list", "--org", "acme", "--format", "json")
	var list []orgsync.Token
	json.Unmarshal([]byte(out), &list)
	id := ""
	for _, l := range list {
		if l.Description == "" && l.RevokedAt == nil && l.ExpiresAt == nil {
			id = l.ID
		}
	}
	if code, _, errOut := cli(t, cfg, "tokens", "revoke", id); code != 0 {
		t.Fatalf("revoke: %d %s", code, errOut)
	}
	if code, _ := do(t, "GET", base+"/scim/v2/Users", tok, ""); code != 401 {
		t.Fatalf("revoked token: %d, want 401", code)
	}
}

// TestAdminAndSCIMTokensAreNotInterchangeable: every admin endpoint
// refuses a SCIM token, every SCIM endpoint refuses the admin token.
func TestAdminAndSCIMTokensAreNotInterchangeable(t *testing.T) {
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	scimTok, _, _ := a.st.CreateToken(context.Background(), "acme", "idp", 0)
	uid := scimCreate(t, base+"/scim/v2/Users", scimTok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u@example.org"}`)
	gid := scimCreate(t, base+"/scim/v2/Groups", scimTok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}`)
	for _, e := range []struct{ method, path string }{
		{"GET", "/api/v1/orgs/acme/members"},
		{"GET", "/api/v1/orgs/acme/members?status=pending_setup"},
		{"POST", "/api/v1/orgs/acme/members/" + uid + "/setup-complete"},
		{"GET", "/api/v1/runs"},
		{"GET", "/api/v1/events?after=0"},
	} {
		if code, body := do(t, e.method, base+e.path, scimTok, ""); code != 401 {
			t.Errorf("admin %s %s with a SCIM token: %d %s", e.method, e.path, code, body)
		}
		if code, _ := do(t, e.method, base+e.path, testAdminToken, ""); code >= 400 {
			t.Errorf("admin %s %s with the admin token: %d", e.method, e.path, code)
		}
	}
	for _, prefix := range scimPrefixes {
		for _, e := range []struct{ method, path, body string }{
			{"GET", "/Users", ""}, {"GET", "/Users/" + uid, ""}, {"GET", "/Groups", ""},
			{"PATCH", "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}`},
			{"DELETE", "/Users/" + uid, ""}, {"GET", "/ServiceProviderConfig", ""},
		} {
			if code, body := do(t, e.method, base+prefix+e.path, testAdminToken, e.body); code != 401 {
				t.Errorf("SCIM %s %s%s with the admin token: %d %s", e.method, prefix, e.path, code, body)
			}
		}
	}
	if code, _ := do(t, "GET", base+"/scim/v2/Users/"+uid, scimTok, ""); code != 200 {
		t.Fatalf("the user is gone: %d", code)
	}
}

// TestOrgIsolationOnEverySCIMEndpoint: with the token of one org, every
// endpoint acting on the other org's users and groups answers 404, lists
// and filters never show them, group member references to them are
// refused, and the other org's rows stay byte-identical.
func TestOrgIsolationOnEverySCIMEndpoint(t *testing.T) {
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	ctx := context.Background()
	type orgData struct{ token, uid, gid, name, ext, group string }
	orgs := map[string]*orgData{}
	for _, org := range []string{"acme", "beta"} {
		tok, _, _ := a.st.CreateToken(ctx, org, "idp", 0)
		d := &orgData{token: tok, name: org + "-user@example.org", ext: org + "-ext", group: org + "-group"}
		d.uid = scimCreate(t, base+"/scim/v2/Users", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+d.name+`","externalId":"`+d.ext+`",
			"emails":[{"value":"`+d.name+`","type":"work","primary":true}]}`)
		d.gid = scimCreate(t, base+"/scim/v2/Groups", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+d.group+`","members":[{"value":"`+d.uid+`"}]}`)
		orgs[org] = d
	}
	before := dumpStore(t, a)
	checks := 0
	for self, other := range map[string]string{"acme": "beta", "beta": "acme"} {
		me, them := orgs[self], orgs[other]
		for _, prefix := range scimPrefixes {
			scim := base + prefix
			userPut := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + them.name + `","active":false}`
			groupPut := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"x","members":[]}`
			patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
			gpatch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}`
			for _, e := range []struct{ method, path, body string }{
				{"GET", "/Users/" + them.uid, ""}, {"PUT", "/Users/" + them.uid, userPut}, {"PATCH", "/Users/" + them.uid, patch}, {"DELETE", "/Users/" + them.uid, ""},
				{"GET", "/Groups/" + them.gid, ""}, {"GET", "/Groups/" + them.gid + "?excludedAttributes=members", ""},
				{"PUT", "/Groups/" + them.gid, groupPut}, {"PATCH", "/Groups/" + them.gid, gpatch}, {"DELETE", "/Groups/" + them.gid, ""},
			} {
				checks++
				if code, body := do(t, e.method, scim+e.path, me.token, e.body); code != 404 {
					t.Errorf("%s: %s %s%s: %d %s, want 404", self, e.method, prefix, e.path, code, body)
				}
			}
			for _, q := range []string{"/Users", "/Groups", "/Users?count=1000", "/Users?filter=" + urlQuery(`userName eq "`+them.name+`"`),
				"/Users?filter=" + urlQuery(`id eq "`+them.uid+`"`), "/Users?filter=" + urlQuery(`externalId eq "`+them.ext+`"`),
				"/Users?filter=" + urlQuery(`emails[type eq "work"].value eq "`+them.name+`"`), "/Users?filter=" + urlQuery(`userName pr or not (userName pr)`),
				"/Groups?filter=" + urlQuery(`displayName eq "`+them.group+`"`), "/Groups?filter=" + urlQuery(`members[value eq "`+them.uid+`"]`),
				"/Groups?filter=" + urlQuery(`id eq "`+them.gid+`"`)} {
				checks++
				code, body := do(t, "GET", scim+q, me.token, "")
				if code != 200 || strings.Contains(body, them.uid) || strings.Contains(body, them.gid) || strings.Contains(body, them.name) || strings.Contains(body, them.group) {
					t.Errorf("%s: GET %s%s shows the other org: %d %s", self, prefix, q, code, body)
				}
			}
			ref := `[{"value":"` + them.uid + `"}]`
			for _, e := range []struct{ method, path, body string }{
				{"POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"steal","members":` + ref + `}`},
				{"PUT", "/Groups/" + me.gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"` + me.group + `","members":` + ref + `}`},
				{"PATCH", "/Groups/" + me.gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":` + ref + `}]}`},
				{"PATCH", "/Groups/" + me.gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":` + ref + `}]}`},
			} {
				checks++
				if code, body := do(t, e.method, scim+e.path, me.token, e.body); code < 400 || code >= 500 {
					t.Errorf("%s: %s %s%s referencing the other org's member: %d %s, want a 4xx", self, e.method, prefix, e.path, code, body)
				}
			}
		}
	}
	if after := dumpStore(t, a); after.Hash() != before.Hash() {
		t.Fatalf("cross-org requests changed the store:\n%s", before.Diff(after))
	}
	t.Logf("%d cross-org requests refused; %d rows unchanged", checks, before.Rows())
}
