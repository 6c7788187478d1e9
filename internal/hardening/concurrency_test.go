package hardening_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/store"
)

// fakeSource serves a directory of n users whose disabled window moves
// with every read, so that each run provisions, deprovisions and
// reactivates while the SCIM writers work.
type fakeSource struct {
	n     int
	reads atomic.Int64
}

func (f *fakeSource) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	k := int(f.reads.Add(1))
	var s orgsync.Snapshot
	all := orgsync.Group{ExternalID: "g-all", DisplayName: "corp-all"}
	for i := 0; i < f.n; i++ {
		st := orgsync.StatusActive
		if (i+k*7)%f.n < 10 {
			st = orgsync.StatusDeprovisioned
		}
		key := fmt.Sprintf("corp-%04d", i)
		s.Members = append(s.Members, orgsync.Member{ExternalID: key, UserName: key + "@example.org", Status: st,
			Emails: []orgsync.Email{{Value: key + "@example.org", Type: "work", Primary: true}}})
		if i%3 == 0 {
			all.Members = append(all.Members, key)
		}
	}
	s.Groups = []orgsync.Group{all}
	return s, nil
}

type client struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
	// bad collects every 5xx and every "database is locked" a client saw.
	mu  sync.Mutex
	bad []string
}

func (c *client) do(method, path, ifMatch, body string) (int, map[string]any) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/scim+json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.note(fmt.Sprintf("%s %s: %v", method, path, err))
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 || bytes.Contains(bytes.ToLower(raw), []byte("locked")) {
		c.note(fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, raw))
	}
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (c *client) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, s)
}

const (
	userSchema  = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	groupSchema = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	patchSchema = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
)

// TestConcurrentWritersAndReconcile: 50 SCIM writers (creates, PATCHes
// with If-Match, member adds and removes on shared groups, deletes), a
// contest of PATCHes on one version, a reconcile loop into the same org,
// and an event-feed reader polling with `after`, on SQLite and
// PostgreSQL. No write is lost, exactly one PATCH wins per version, no
// client sees a 5xx or "database is locked", and the reader's feed is
// strictly increasing and holds every event in the end (none skipped).
func TestConcurrentWritersAndReconcile(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := openStore(t, b.config(t))
			runConcurrency(t, st)
		})
	}
}

func runConcurrency(t *testing.T, st *store.Store) {
	ctx := context.Background()
	token, _, _ := st.CreateToken(ctx, "acme", "idp", 0)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h := receiver.New(st.SCIM(), zerolog.Nop(), receiver.Options{PublicURL: srv.URL})
	mux.Handle("/scim/v2/", h.Mount("/scim/v2"))
	c := &client{t: t, base: srv.URL + "/scim/v2", token: token, http: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 100}}}

	_, g1 := c.do("POST", "/Groups", "", `{`+groupSchema+`,"displayName":"shared-one"}`)
	_, g2 := c.do("POST", "/Groups", "", `{`+groupSchema+`,"displayName":"shared-two"}`)
	_, g3 := c.do("POST", "/Groups", "", `{`+groupSchema+`,"displayName":"churn"}`)
	_, contested := c.do("POST", "/Users", "", `{`+userSchema+`,"userName":"contested@example.org"}`)
	if g1 == nil || g2 == nil || g3 == nil || contested == nil {
		t.Fatalf("setup failed: %v", c.bad)
	}
	g1id, g2id, g3id, cid := g1["id"].(string), g2["id"].(string), g3["id"].(string), contested["id"].(string)

	// The event reader polls the feed like the KMS does.
	stopReader := make(chan struct{})
	var readerSeqs []int64
	var readerErr error
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		var after int64
		for {
			select {
			case <-stopReader:
				return
			default:
			}
			evs, err := st.Events(ctx, "", after, 50)
			if err != nil {
				readerErr = err
				return
			}
			for _, e := range evs {
				if e.Seq <= after {
					readerErr = fmt.Errorf("seq %d after %d: not strictly increasing", e.Seq, after)
					return
				}
				after = e.Seq
				readerSeqs = append(readerSeqs, e.Seq)
			}
		}
	}()

	// The reconcile loop.
	runner := &reconciler.Runner{Store: st, Logger: zerolog.Nop()}
	job := reconciler.Job{Name: "corp", Org: "acme", DefaultRole: orgsync.RoleMember, Source: &fakeSource{n: 300},
		Guard: reconciler.GuardConfig{MaxDeprovision: 1000, MaxDeprovisionPercent: 100}}
	stopRuns := make(chan struct{})
	runsDone := make(chan struct{})
	runs, runErrs := 0, []error{}
	go func() {
		defer close(runsDone)
		for {
			select {
			case <-stopRuns:
				if runs >= 2 {
					return
				}
			default:
			}
			if _, err := runner.Run(ctx, job, false); err != nil {
				runErrs = append(runErrs, err)
			}
			runs++
		}
	}()

	const writers = 50
	type outcome struct {
		id               string
		created, patched bool
		inG1, inG2       bool
		deleted          bool
	}
	outcomes := make([]outcome, writers)
	var contest [writers]int
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o := &outcomes[i]
			code, u := c.do("POST", "/Users", "", fmt.Sprintf(`{%s,"userName":"writer-%02d@example.org","emails":[{"value":"writer-%02d@example.org","type":"work","primary":true}]}`, userSchema, i, i))
			if code != 201 {
				c.note(fmt.Sprintf("writer %d create: %d", i, code))
				return
			}
			o.id, o.created = u["id"].(string), true
			version := u["meta"].(map[string]any)["version"].(string)
			if code, _ := c.do("PATCH", "/Users/"+o.id, version, `{`+patchSchema+`,"Operations":[{"op":"replace","path":"displayName","value":"Writer `+fmt.Sprint(i)+`"}]}`); code == 200 || code == 204 {
				o.patched = true
			} else {
				c.note(fmt.Sprintf("writer %d patch own user: %d", i, code))
			}
			// Everyone races on one version of the contested user.
			contest[i], _ = c.do("PATCH", "/Users/"+cid, `W/"1"`, `{`+patchSchema+`,"Operations":[{"op":"replace","path":"displayName","value":"won by `+fmt.Sprint(i)+`"}]}`)
			add := `{` + patchSchema + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + o.id + `"}]}]}`
			if code, _ := c.do("PATCH", "/Groups/"+g1id, "", add); code == 204 || code == 200 {
				o.inG1 = true
			}
			if code, _ := c.do("PATCH", "/Groups/"+g2id, "", add); code == 204 || code == 200 {
				o.inG2 = true
			}
			if i%2 == 1 {
				rm := `{` + patchSchema + `,"Operations":[{"op":"remove","path":"members[value eq \"` + o.id + `\"]"}]}`
				if code, _ := c.do("PATCH", "/Groups/"+g2id, "", rm); code == 204 || code == 200 {
					o.inG2 = false
				}
			}
			// Churn: many small writes, to give a reader many chances to
			// see an event commit behind its cursor. Ends as a member.
			for k := 0; k < 8; k++ {
				op := "add"
				if k%2 == 1 {
					op = "remove"
				}
				if code, _ := c.do("PATCH", "/Groups/"+g3id, "", `{`+patchSchema+`,"Operations":[{"op":"`+op+`","path":"members","value":[{"value":"`+o.id+`"}]}]}`); code != 204 && code != 200 {
					c.note(fmt.Sprintf("writer %d churn %s: %d", i, op, code))
				}
			}
			if code, _ := c.do("PATCH", "/Groups/"+g3id, "", add); code != 204 && code != 200 {
				c.note(fmt.Sprintf("writer %d final add: %d", i, code))
			}
			if i%10 == 9 {
				if code, _ := c.do("DELETE", "/Users/"+o.id, "", ""); code == 204 {
					o.deleted = true
				}
			}
		}(i)
	}
	wg.Wait()
	close(stopRuns)
	<-runsDone
	close(stopReader)
	<-readerDone

	for _, b := range c.bad {
		t.Error(b)
	}
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	for _, err := range runErrs {
		t.Errorf("reconcile during the writes: %v", err)
	}
	wins, conflicts := 0, 0
	for _, code := range contest {
		switch code {
		case 200, 204:
			wins++
		case 412:
			conflicts++
		}
	}
	if wins != 1 || conflicts != writers-1 {
		t.Errorf("PATCHes of one version: %d won, %d got 412, want 1 and %d", wins, conflicts, writers-1)
	}

	// No lost update.
	check := func(gid string, want func(o outcome) bool) {
		t.Helper()
		_, g := c.do("GET", "/Groups/"+gid, "", "")
		have := map[string]bool{}
		members, _ := g["members"].([]any)
		for _, m := range members {
			have[m.(map[string]any)["value"].(string)] = true
		}
		for i, o := range outcomes {
			if o.created && !o.deleted && want(o) != have[o.id] {
				t.Errorf("group %s: writer %d (%s) present=%v, acknowledged=%v", g["displayName"], i, o.id, have[o.id], want(o))
			}
		}
	}
	check(g1id, func(o outcome) bool { return o.inG1 })
	check(g2id, func(o outcome) bool { return o.inG2 })
	check(g3id, func(o outcome) bool { return true })
	for i, o := range outcomes {
		if !o.created || !o.patched {
			t.Fatalf("writer %d: created=%v patched=%v", i, o.created, o.patched)
		}
		code, u := c.do("GET", "/Users/"+o.id, "", "")
		switch {
		case o.deleted && code != 404:
			t.Errorf("writer %d: deleted user answers %d", i, code)
		case !o.deleted && (code != 200 || u["displayName"] != fmt.Sprintf("Writer %d", i)):
			t.Errorf("writer %d: %d %v (PATCH lost)", i, code, u["displayName"])
		}
	}

	// The feed: what the reader saw during the writes plus a final drain
	// must be every event, and every acknowledged write has its event.
	all, err := st.Events(ctx, "", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var after int64
	if len(readerSeqs) > 0 {
		after = readerSeqs[len(readerSeqs)-1]
	}
	tail, _ := st.Events(ctx, "", after, 10000)
	seen := len(readerSeqs) + len(tail)
	if seen != len(all) {
		t.Fatalf("the polling reader saw %d events, the feed holds %d: an event committed behind the reader's cursor", seen, len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("feed not ordered at %d", i)
		}
	}
	kinds := map[string]map[string]int{}
	for _, e := range all {
		if kinds[e.MemberID] == nil {
			kinds[e.MemberID] = map[string]int{}
		}
		kinds[e.MemberID][e.Kind]++
	}
	for i, o := range outcomes {
		k := kinds[o.id]
		if k[orgsync.EventMemberCreated] != 1 || k[orgsync.EventMemberUpdated] < 1 || k[orgsync.EventGroupMemberAdded] < 2 ||
			(o.deleted && k[orgsync.EventMemberDeleted] != 1) {
			t.Errorf("writer %d: events %v do not match its acknowledged writes", i, k)
		}
	}
	t.Logf("%d writers, %d reconcile runs, %d events (reader saw %d live, %d in the drain), contest: %d won / %d got 412",
		writers, runs, len(all), len(readerSeqs), len(tail), wins, conflicts)
}
