package hardening_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
)

// FuzzSCIMFilterOverHTTP sends fuzzed filters to the receiver on a real
// SQLite store whose two orgs hold look-alike users and groups. Every
// answer is 200 or 400 invalidFilter (never 5xx, never an unfiltered list
// for an invalid filter), and a 200 lists only the caller's org.
func FuzzSCIMFilterOverHTTP(f *testing.F) {
	for _, s := range []string{
		`userName eq "alice@example.org"`, `userName co "example"`, `not (userName pr)`, `userName pr or not (userName pr)`,
		`emails[type eq "work" and value ew ".org"]`, `emails[type eq "work"].value eq "bob@example.org"`, `externalId eq "ext-1"`,
		`displayName sw "A"`, `members[value eq "x"]`, `meta.lastModified gt "2020-01-01T00:00:00Z"`, `active eq true`,
		`userName eq "' OR '1'='1"`, `userName eq "*)(uid=*"`, `userName co "%"`, `userName sw "_"`, `id eq "1 OR 1=1"`,
		`userName eq "\u212aelvin@example.org"`, `userName eq "nobody" or userName pr`, `displayName eq "x" or displayName pr`,
		`externalId eq "none" or emails[type eq "work"]`, `id eq "x" or not (id eq "x")`, `((userName eq "a")`, `userName eq`, ``, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@example.org"`,
	} {
		f.Add(s)
	}
	dir, err := os.MkdirTemp("", "orgsync-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "orgsync.db")}, zerolog.Nop())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close(); os.RemoveAll(dir) })
	ctx := context.Background()
	if err := st.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: time.Hour},
		{ID: "beta", Name: "Beta", DefaultRole: orgsync.RoleMember, PurgeAfter: time.Hour}}); err != nil {
		f.Fatal(err)
	}
	own := map[string]bool{}
	for _, org := range []string{"acme", "beta"} {
		for i, n := range []string{"alice", "bob", "kelvin", "Åsa", "o'brien"} {
			m, err := st.SCIMCreateMember(ctx, org, orgsync.Member{UserName: n + "@example.org", ExternalID: fmt.Sprintf("ext-%d", i), DisplayName: "A " + n,
				Emails: []orgsync.Email{{Value: n + "@example.org", Type: "work", Primary: true}}})
			if err != nil {
				f.Fatal(err)
			}
			g, err := st.SCIMCreateGroup(ctx, org, orgsync.Group{DisplayName: "G " + n, Members: []string{m.ID}})
			if err != nil {
				f.Fatal(err)
			}
			if org == "acme" {
				own[m.ID], own[g.ID] = true, true
			}
		}
	}
	token, _, err := st.CreateToken(ctx, "acme", "fuzz", 0)
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	f.Cleanup(srv.Close)
	h := receiver.New(st.SCIM(), zerolog.Nop(), receiver.Options{PublicURL: srv.URL, FailedAuthLimit: 1 << 30})
	mux.Handle("/scim/v2/", h.Mount("/scim/v2"))

	f.Fuzz(func(t *testing.T, filter string) {
		for _, res := range []string{"Users", "Groups"} {
			req, _ := http.NewRequest("GET", srv.URL+"/scim/v2/"+res+"?count=1000&filter="+url.QueryEscape(filter), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body struct {
				ScimType  string `json:"scimType"`
				Total     int    `json:"totalResults"`
				Resources []struct {
					ID string `json:"id"`
				} `json:"Resources"`
			}
			json.Unmarshal(raw, &body)
			switch resp.StatusCode {
			case 200:
				for _, r := range body.Resources {
					if !own[r.ID] {
						t.Fatalf("%s filter %q lists %s of another org: %s", res, filter, r.ID, raw)
					}
				}
				if body.Total != len(body.Resources) {
					t.Fatalf("%s filter %q: totalResults %d, %d listed", res, filter, body.Total, len(body.Resources))
				}
			case 400:
				if body.ScimType != "invalidFilter" && body.ScimType != "invalidValue" {
					t.Fatalf("%s filter %q: 400 with scimType %q: %s", res, filter, body.ScimType, raw)
				}
			default:
				t.Fatalf("%s filter %q: %d %s", res, filter, resp.StatusCode, raw)
			}
		}
	})
}
