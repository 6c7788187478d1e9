package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
)

// The store's methods satisfy the receiver's interface.
var _ receiver.OwnerView = store.OwnerView{}

// env is a real receiver on a real store, served over HTTP on loopback,
// mounted like the daemon mounts it.
type env struct {
	t      testing.TB
	st     *store.Store
	srv    *httptest.Server
	base   string // SCIM base URL under /scim/v2
	token  string // a token of org acme
	other  string // a token of org other
	client *http.Client
}

type backend struct {
	name string
	cfg  func(t testing.TB) (store.Config, bool)
}

var backends = []backend{
	{"sqlite", func(t testing.TB) (store.Config, bool) {
		return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db")}, true
	}},
	{"postgres", postgresConfig},
}

// postgresConfig makes a fresh database on the test cluster (skipped
// outside CI when there is none; under CI its absence fails the test).
func postgresConfig(t testing.TB) (store.Config, bool) {
	return store.Config{Driver: store.DriverPostgres, DSN: testenv.PostgresDatabase(t), MaxOpenConns: 10}, true
}

func newEnv(t testing.TB, cfg store.Config, opts receiver.Options) *env {
	t.Helper()
	st, err := store.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.EnsureOrgs(context.Background(), []orgsync.Org{
		{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
		{ID: "other", Name: "Other", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, client: &http.Client{Timeout: 30 * time.Second}}
	if e.token, _, err = st.CreateToken(context.Background(), "acme", "test", 0); err != nil {
		t.Fatal(err)
	}
	if e.other, _, err = st.CreateToken(context.Background(), "other", "test", 0); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewUnstartedServer(mux)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	opts.PublicURL = e.srv.URL
	h := receiver.New(st.SCIM(), zerolog.Nop(), opts)
	mux.Handle("/scim/v2/", h.Mount("/scim/v2"))
	mux.Handle("/api/v1/scim/", h.Mount("/api/v1/scim"))
	e.base = e.srv.URL + "/scim/v2"
	return e
}

// response is one HTTP answer with its decoded JSON body.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (e *env) do(method, path string, header map[string]string, body []byte) response {
	e.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.base + path
		if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/scim/") {
			target = e.srv.URL + path
		}
	}
	if before, query, ok := strings.Cut(target, "?"); ok { // readable files: encode spaces and quotes
		target = before + "?" + strings.NewReplacer(" ", "%20", `"`, "%22").Replace(query)
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("request %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

// lookup follows a path of keys and array indexes separated by "/"
// (attribute URNs contain dots).
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(path, "/") {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// memberView is what the store holds about a member, as the replay files
// assert it.
type memberView struct {
	Status     string `json:"status"`
	Owner      string `json:"owner"`
	ExternalID string `json:"external_id"`
	Deleted    bool   `json:"deleted"`
	Email      string `json:"email"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
}

// observed summarises org acme: members by user name, and each group's
// member user names (sorted).
func (e *env) observed() (map[string]memberView, map[string][]string) {
	e.t.Helper()
	snap, err := e.st.Observed(context.Background(), "acme")
	if err != nil {
		e.t.Fatal(err)
	}
	members := map[string]memberView{}
	names := map[string]string{}
	for _, m := range snap.Members {
		names[m.ID] = m.UserName
		members[m.UserName] = memberView{Status: string(m.Status), Owner: m.Owner, ExternalID: m.ExternalID,
			Deleted: m.DeletedAt != nil, Email: m.Email(), GivenName: m.GivenName, FamilyName: m.FamilyName}
	}
	groups := map[string][]string{}
	for _, g := range snap.Groups {
		list := []string{}
		for _, id := range g.Members {
			list = append(list, names[id])
		}
		sort.Strings(list)
		groups[g.DisplayName] = list
	}
	return members, groups
}

// dump is a byte-exact picture of org acme's rows, for "nothing changed".
func (e *env) dump() string {
	e.t.Helper()
	snap, err := e.st.Observed(context.Background(), "acme")
	if err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.st.Events(context.Background(), "", 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		Snap   orgsync.Snapshot
		Events int
	}{snap, len(evs)})
	return string(b)
}
