package kmsadmin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/orgsync/orgsync"
)

const (
	clientID     = "machine-identity-1"
	clientSecret = "client-secret-never-shown-7f3a"
	accessToken  = "access-token-never-shown-91c2"
)

// adminAPI is an httptest KMS admin API: a login that checks the client id
// and secret, and a listing of orgs paged by offset and limit. Its knobs
// break one behaviour each.
type adminAPI struct {
	orgs []map[string]any // the whole listing

	loginStatus, listStatus int    // answered instead of the real thing, when set
	loginBody, listBody     string // answered raw, when set
	noTotal, ignoreOffset   bool
	shortTotal              int // claimed total beyond the listing, when set

	mu    *sync.Mutex
	calls []string // "POST /login", "GET offset=0 limit=100 bearer=ok"
}

func (a *adminAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case LoginPath:
		a.log("POST login")
		var in struct{ ClientID, ClientSecret string }
		switch {
		case a.loginStatus != 0:
			w.WriteHeader(a.loginStatus)
			fmt.Fprintf(w, `{"message":"refused clientSecret %s"}`, clientSecret) // a server echoing the secret
		case a.loginBody != "":
			fmt.Fprint(w, a.loginBody)
		case json.NewDecoder(r.Body).Decode(&in) != nil || in.ClientID != clientID || in.ClientSecret != clientSecret:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"statusCode":401,"message":"Invalid credentials"}`)
		default:
			fmt.Fprintf(w, `{"accessToken":%q,"expiresIn":7200,"tokenType":"Bearer"}`, accessToken)
		}
	case OrgsPath:
		q := r.URL.Query()
		a.log(fmt.Sprintf("GET offset=%s limit=%s bearer=%v", q.Get("offset"), q.Get("limit"), r.Header.Get("Authorization") == "Bearer "+accessToken))
		offset, _ := strconv.Atoi(q.Get("offset"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		switch {
		case a.listStatus != 0:
			w.WriteHeader(a.listStatus)
			fmt.Fprintf(w, `{"message":"upstream broke; token was %s"}`, accessToken)
			return
		case a.listBody != "":
			fmt.Fprint(w, a.listBody)
			return
		}
		if a.ignoreOffset {
			offset = 0
		}
		page := a.orgs[min(offset, len(a.orgs)):min(offset+limit, len(a.orgs))]
		out := map[string]any{"organizations": page}
		switch {
		case a.shortTotal != 0:
			out["total"] = a.shortTotal
		case !a.noTotal:
			out["total"] = len(a.orgs)
		}
		json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

func (a *adminAPI) log(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, s)
}

// orgsOf returns n orgs, each with one invited and one accepted member
// (and, in the first, one whose status is null).
func orgsOf(n int) []map[string]any {
	var out []map[string]any
	for i := range n {
		members := []map[string]any{
			{"membershipId": fmt.Sprintf("m-%d-a", i), "status": "accepted", "role": "member", "user": map[string]any{"username": fmt.Sprintf("alice%d", i), "email": fmt.Sprintf("alice%d@example.org", i)}},
			{"membershipId": fmt.Sprintf("m-%d-i", i), "status": "invited", "user": map[string]any{"username": fmt.Sprintf("ivan%d", i)}},
		}
		if i == 0 {
			members = append(members, map[string]any{"membershipId": "m-null", "status": nil, "user": map[string]any{"username": "nobody"}})
		}
		out = append(out, map[string]any{"id": fmt.Sprintf("org-%d", i), "name": "o", "members": members})
	}
	return out
}

func TestMemberships(t *testing.T) {
	cases := []struct {
		name     string
		api      adminAPI
		secret   string
		pageSize int
		want     int      // memberships returned
		calls    []string // the requests made, in order; nil: not checked
		wantErr  []string // substrings of the error
		kind     error
	}{
		{name: "login then one page", api: adminAPI{orgs: orgsOf(2)}, want: 5,
			calls: []string{"POST login", "GET offset=0 limit=100 bearer=true"}},
		{name: "pages by offset until total", api: adminAPI{orgs: orgsOf(5)}, pageSize: 2, want: 11,
			calls: []string{"POST login", "GET offset=0 limit=2 bearer=true", "GET offset=2 limit=2 bearer=true", "GET offset=4 limit=2 bearer=true"}},
		{name: "pages without total until a short page", api: adminAPI{orgs: orgsOf(4), noTotal: true}, pageSize: 2, want: 9,
			calls: []string{"POST login", "GET offset=0 limit=2 bearer=true", "GET offset=2 limit=2 bearer=true", "GET offset=4 limit=2 bearer=true"}},
		{name: "empty KMS", api: adminAPI{}, want: 0},
		{name: "wrong secret", api: adminAPI{orgs: orgsOf(1)}, secret: "not-it", kind: orgsync.ErrUnauthorized,
			wantErr: []string{"HTTP 401", "check setup_status.client_id and client_secret"}, calls: []string{"POST login"}},
		{name: "login 403", api: adminAPI{loginStatus: 403}, kind: orgsync.ErrUnauthorized, wantErr: []string{"HTTP 403", "setup_status.client_id"}},
		{name: "not a super-admin", api: adminAPI{listStatus: 403}, kind: orgsync.ErrUnauthorized, wantErr: []string{"HTTP 403", "instance super-admin role"}},
		{name: "login 5xx", api: adminAPI{loginStatus: 502}, kind: orgsync.ErrUnavailable, wantErr: []string{"POST " + LoginPath + ": HTTP 502", "<redacted>"}},
		{name: "listing 5xx", api: adminAPI{listStatus: 500}, kind: orgsync.ErrUnavailable, wantErr: []string{"HTTP 500", "upstream broke", "<redacted>"}},
		{name: "login without a token", api: adminAPI{loginBody: `{"expiresIn":7200}`}, kind: orgsync.ErrUnauthorized, wantErr: []string{"no access token"}},
		{name: "malformed login", api: adminAPI{loginBody: `{"accessToken":`}, wantErr: []string{"POST " + LoginPath + ": decode"}},
		{name: "malformed listing", api: adminAPI{listBody: `{"organizations":[{"id":"o","members":"nope"}]}`}, wantErr: []string{"GET " + OrgsPath, "decode"}},
		{name: "member without membershipId", api: adminAPI{listBody: `{"organizations":[{"id":"o1","members":[{"status":"accepted"}]}],"total":1}`},
			kind: orgsync.ErrInvalid, wantErr: []string{"a member of o1 without membershipId"}},
		{name: "total beyond the listing is a short read", api: adminAPI{orgs: orgsOf(3), shortTotal: 5}, pageSize: 2, kind: orgsync.ErrUnavailable,
			wantErr: []string{"3 of 5 listed"}},
		{name: "offset ignored: bounded", api: adminAPI{orgs: orgsOf(4), ignoreOffset: true, noTotal: true}, pageSize: 2, kind: orgsync.ErrUnavailable,
			wantErr: []string{"offset not honoured"}, calls: []string{"POST login", "GET offset=0 limit=2 bearer=true", "GET offset=2 limit=2 bearer=true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.api.mu = new(sync.Mutex)
			srv := httptest.NewServer(&tc.api)
			defer srv.Close()
			secret := tc.secret
			if secret == "" {
				secret = clientSecret
			}
			c := &Client{URL: srv.URL + "/", ClientID: clientID, ClientSecret: orgsync.Secret(secret), PageSize: tc.pageSize}
			got, err := c.Memberships(context.Background())
			if tc.calls != nil && strings.Join(tc.api.calls, "; ") != strings.Join(tc.calls, "; ") {
				t.Errorf("requests:\n got %q\nwant %q", tc.api.calls, tc.calls)
			}
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.want {
					t.Errorf("%d memberships, want %d: %v", len(got), tc.want, got)
				}
				if tc.want > 0 {
					checkMember(t, got, Membership{ID: "m-0-a", Status: StatusAccepted, UserName: "alice0", Email: "alice0@example.org"})
					checkMember(t, got, Membership{ID: "m-0-i", Status: StatusInvited, UserName: "ivan0"})
					checkMember(t, got, Membership{ID: "m-null", Status: "", UserName: "nobody"})
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one with %q (got %d memberships)", tc.wantErr, len(got))
			}
			if got != nil {
				t.Errorf("a failed read returned %d memberships: all or nothing", len(got))
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			for _, s := range []string{clientSecret, accessToken, secret} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("a secret in the error: %q", err)
				}
			}
		})
	}
}

func checkMember(t *testing.T, got map[string]Membership, want Membership) {
	t.Helper()
	if got[want.ID] != want {
		t.Errorf("membership %s = %+v, want %+v", want.ID, got[want.ID], want)
	}
}

// The secret is cut out before an error body is truncated: no prefix of
// it survives at the cut.
func TestRedactBeforeTruncate(t *testing.T) {
	c := &Client{ClientSecret: clientSecret}
	body := strings.Repeat("x", 290) + clientSecret + strings.Repeat("y", 50)
	got := c.redact(body, "")
	if strings.Contains(got, clientSecret[:8]) || !strings.Contains(got, "<redacted>") {
		t.Errorf("redact = %q", got)
	}
}

func TestLoginUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &Client{URL: srv.URL, ClientID: clientID, ClientSecret: clientSecret}
	_, err := c.Login(context.Background())
	if !errors.Is(err, orgsync.ErrUnavailable) || strings.Contains(err.Error(), clientSecret) {
		t.Fatalf("err = %v, want ErrUnavailable without the secret", err)
	}
}
