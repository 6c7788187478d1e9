// Command scimload measures the SCIM receiver on loopback against the real
// store: it seeds an SQLite store with -members SCIM members (one group
// holding -group-members of them) through store.Apply, serves the receiver
// on 127.0.0.1, and drives three loads with a bounded number of workers for
// a bounded time:
//
//	lookup  GET /Users?filter=userName eq "…" (random existing users)
//	external GET /Users?filter=externalId eq "…" (Entra's default matching; no target)
//	email   GET /Users?filter=emails[type eq "work"].value eq "…" (Entra matching; no target)
//	create  POST /Users (new users)
//	add     PATCH /Groups/{id} adding one member to the big group (sequential)
//
// It prints throughput and latency percentiles per load and exits 1 when a
// target of the receiver issue is missed (unless -check=false). It is the
// Go half of scripts/bench-scim.sh.
package main

import (
	"database/sql"

	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
)

type config struct {
	members, groupMembers, workers, adds int
	duration                             time.Duration
	dir                                  string
	check                                bool
	profile                              *os.File
	loads                                string
	rich, seedDocs                       bool
	// url and token: drive a server already running (orgsync serve, or
	// the floor of tools/scimfloor) instead of seeding and serving one.
	url, token string
	posts      int

	blockProfile, mutexProfile string
	logRequests                bool
}

func (c config) runs(name string) bool { return strings.Contains(","+c.loads+",", ","+name+",") }

func main() {
	var c config
	flag.IntVar(&c.members, "members", 100_000, "members to seed")
	flag.IntVar(&c.groupMembers, "group-members", 10_000, "members of the big group")
	flag.IntVar(&c.workers, "workers", 8, "concurrent client workers for lookup and create")
	flag.IntVar(&c.adds, "adds", 2000, "sequential add-member PATCHes on the big group")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "duration of the lookup and create loads")
	flag.StringVar(&c.dir, "dir", "", "directory for the SQLite database (default: a temporary one)")
	flag.BoolVar(&c.check, "check", true, "exit 1 when a target is missed")
	flag.StringVar(&c.loads, "loads", "lookup,external,email,create,add", "loads to run, comma-separated")
	flag.BoolVar(&c.rich, "rich", false, "created users carry the enterprise extension and two phone numbers")
	flag.BoolVar(&c.seedDocs, "seed-docs", false, "seeded members carry that document too (seedDoc; schema 4 and later)")
	flag.StringVar(&c.url, "url", "", "SCIM base URL of a running server (e.g. http://127.0.0.1:8080/scim/v2): POST -posts users, then run the lookup load on them; nothing is seeded")
	flag.StringVar(&c.token, "token", "", "with -url: the bearer token (default $SCIMLOAD_TOKEN)")
	flag.IntVar(&c.posts, "posts", 20_000, "with -url: users POSTed before the lookups (0: the server has them already)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the loads to this file")
	flag.StringVar(&c.blockProfile, "blockprofile", "", "in-process: write a block profile (waits on channels, locks, the SQLite pool) of the loads to this file")
	flag.StringVar(&c.mutexProfile, "mutexprofile", "", "in-process: write a mutex contention profile of the loads to this file")
	flag.BoolVar(&c.logRequests, "log", true, "in-process: the receiver writes its per-request log line (JSON, discarded) as orgsync serve does")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scimload:", err)
			os.Exit(1)
		}
		c.profile = f
	}
	run := run
	if c.url != "" {
		run = runRemote
		if c.token == "" {
			c.token = os.Getenv("SCIMLOAD_TOKEN")
		}
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "scimload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.groupMembers+c.adds > c.members {
		return fmt.Errorf("-members must be at least -group-members + -adds")
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "scimload-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.dir = dir
	}
	st, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(c.dir, "orgsync.db")}, zerolog.Nop())
	if err != nil {
		return err
	}
	defer st.Close()
	t0 := time.Now()
	groupID, err := seed(ctx, st, c)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d members, group of %d, in %s\n", c.members, c.groupMembers, time.Since(t0).Round(time.Millisecond))
	debug.FreeOSMemory() // the seed plan is garbage now; do not bill its collection to the loads
	token, _, err := st.CreateToken(ctx, "acme", "scimload", 0)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	log := zerolog.Nop()
	if c.logRequests {
		log = zerolog.New(io.Discard).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	}
	h := receiver.New(st.SCIM(), log, receiver.Options{PublicURL: base})
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", h.Mount("/scim/v2"))
	srv := &http.Server{Handler: mux, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	cl := &client{base: base + "/scim/v2", token: token, http: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: c.workers * 2, MaxConnsPerHost: c.workers * 2},
		Timeout:   30 * time.Second,
	}}

	if c.profile != nil {
		if err := pprof.StartCPUProfile(c.profile); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	stopProfiles, err := startProfiles(c)
	if err != nil {
		return err
	}
	defer stopProfiles()
	ok := true
	if c.runs("lookup") {
		lookup := load(c.workers, c.duration, func(rng *rand.Rand) error {
			name := userName(rng.IntN(c.members))
			return cl.expect("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), nil, 200, `"totalResults":1`)
		})
		ok = report("GET /Users?filter=userName eq", lookup, 5000, 10*time.Millisecond, 0) && ok
	}
	if c.runs("external") {
		external := load(c.workers, c.duration/2, func(rng *rand.Rand) error {
			f := fmt.Sprintf(`externalId eq "ext-%07d"`, rng.IntN(c.members))
			return cl.expect("GET", "/Users?filter="+url.QueryEscape(f), nil, 200, `"totalResults":1`)
		})
		ok = report("GET /Users?filter=externalId eq", external, 0, 0, 0) && ok
	}
	if c.runs("email") {
		email := load(c.workers, c.duration/2, func(rng *rand.Rand) error {
			name := userName(rng.IntN(c.members))
			f := `emails[type eq "work"].value eq "` + name + `"`
			return cl.expect("GET", "/Users?filter="+url.QueryEscape(f), nil, 200, `"totalResults":1`)
		})
		ok = report(`GET /Users?filter=emails[type eq "work"].value eq`, email, 0, 0, 0) && ok
	}
	if c.runs("create") {
		ok = createLoad(cl, c) && ok
	}
	if c.runs("add") {
		added, err := addLoad(ctx, st, cl, c, groupID)
		if err != nil {
			return err
		}
		ok = added && ok
	}
	if !ok && c.check {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

func createLoad(cl *client, c config) bool {
	var seq atomic.Int64
	create := load(c.workers, c.duration, func(*rand.Rand) error {
		n := seq.Add(1)
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"load%09d@example.org",`+
			`"name":{"givenName":"Load","familyName":"Test"},"emails":[{"value":"load%09d@example.org","type":"work","primary":true}],"active":true}`, n, n)
		if c.rich {
			body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",%q],"userName":"load%09d@example.org",`+
				`"name":{"givenName":"Load","familyName":"Test"},"emails":[{"value":"load%09d@example.org","type":"work","primary":true}],"active":true,`+
				`"phoneNumbers":[{"type":"work","value":"+1 555 0100","primary":true},{"type":"mobile","value":"+1 555 0101"}],`+
				`%q:{"employeeNumber":"%d","department":"Load","manager":{"value":"m-1"}}}`, enterpriseURN, n, n, enterpriseURN, n)
		}
		return cl.expect("POST", "/Users", []byte(body), 201, "")
	})
	return report("POST /Users", create, 1000, 0, 0)
}

func addLoad(ctx context.Context, st *store.Store, cl *client, c config, groupID string) (bool, error) {
	ids, err := memberIDs(ctx, st, c)
	if err != nil {
		return false, err
	}
	add := load(1, time.Hour, func() func(*rand.Rand) error {
		next := 0
		return func(*rand.Rand) error {
			if next >= len(ids) {
				return errDone
			}
			id := ids[next]
			next++
			body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
			return cl.expect("PATCH", "/Groups/"+groupID, []byte(body), 204, "")
		}
	}())
	ok := report(fmt.Sprintf("PATCH /Groups add-member (group of %d)", c.groupMembers), add, 0, 0, 5*time.Millisecond)
	g, _, err := st.SCIMGroup(ctx, "acme", groupID, true)
	if err != nil {
		return false, err
	}
	if want := c.groupMembers + add.n; len(g.Members) != want {
		fmt.Printf("  the big group has %d members, want %d\n", len(g.Members), want)
		ok = false
	}
	return ok, nil
}

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

const seedDoc = `{"phoneNumbers":[{"primary":true,"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],` +
	`"` + enterpriseURN + `":{"department":"Load","employeeNumber":"1","manager":{"value":"m-1"}}}`

func userName(i int) string { return fmt.Sprintf("user%07d@example.org", i) }

// seed provisions the members as owner "scim" and the big group, in one
// Apply.
func seed(ctx context.Context, st *store.Store, c config) (string, error) {
	if err := st.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour}}); err != nil {
		return "", err
	}
	p := orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM}
	p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "big", GroupKey: "big", Group: &orgsync.Group{DisplayName: "big"}})
	for i := 0; i < c.members; i++ {
		name := userName(i)
		key := fmt.Sprintf("ext-%07d", i)
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: key,
			Member: &orgsync.Member{UserName: name, ExternalID: key, GivenName: "Given", FamilyName: fmt.Sprint("Family", i),
				Emails: []orgsync.Email{{Value: name, Type: "work", Primary: true}}}})
	}
	for i := 0; i < c.groupMembers; i++ {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupKey: "big", MemberKey: fmt.Sprintf("ext-%07d", i)})
	}
	if _, err := st.Apply(ctx, p); err != nil {
		return "", err
	}
	if c.seedDocs {
		if err := seedDocs(ctx, filepath.Join(c.dir, "orgsync.db")); err != nil {
			return "", fmt.Errorf("seed documents: %w", err)
		}
	}
	f := orgsync.Filter{Op: orgsync.FilterEq, Attr: orgsync.AttrDisplayName, Value: "big"}
	gs, _, _, err := st.SCIMGroups(ctx, "acme", orgsync.Query{Filter: &f, StartIndex: 1, Count: 1}, false)
	if err != nil || len(gs) != 1 {
		return "", fmt.Errorf("big group not found: %v", err)
	}
	return gs[0].ID, nil
}

// memberIDs returns the IDs of the members not yet in the big group that
// the add load adds.
func memberIDs(ctx context.Context, st *store.Store, c config) ([]string, error) {
	ids := make([]string, 0, c.adds)
	for i := c.groupMembers; i < c.groupMembers+c.adds; i++ {
		m, err := st.Member(ctx, "acme", userName(i))
		if err != nil {
			return nil, err
		}
		ids = append(ids, m.ID)
	}
	return ids, nil
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) expect(method, path string, body []byte, status int, contains string) error {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != status || !bytes.Contains(raw, []byte(contains)) {
		return fmt.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, raw)
	}
	return nil
}

// seedDocs gives every member seedDoc, writing the database file directly
// (the store has no bulk path for documents).
func seedDocs(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", path+"?_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO member_docs (member_id, doc) SELECT id, ? FROM members`, seedDoc); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `UPDATE members SET doc_sum = ?`, orgsync.AttributesDigestOf([]byte(seedDoc)))
	return err
}
