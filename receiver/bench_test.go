package receiver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
)

// lookupBench is a receiver over a real SQLite store holding n SCIM
// members, mounted as orgsync serve mounts it.
type lookupBench struct {
	h     http.Handler
	token string
	n     int
}

func newLookupBench(b *testing.B, n int, log zerolog.Logger) lookupBench {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(b.TempDir(), "orgsync.db")}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour}}); err != nil {
		b.Fatal(err)
	}
	p := orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM}
	for i := range n {
		name, key := benchUserName(i), fmt.Sprintf("ext-%07d", i)
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: key,
			Member: &orgsync.Member{UserName: name, ExternalID: key, GivenName: "Given", FamilyName: fmt.Sprint("Family", i),
				Emails: []orgsync.Email{{Value: name, Type: "work", Primary: true}}}})
	}
	if _, err := st.Apply(ctx, p); err != nil {
		b.Fatal(err)
	}
	token, _, err := st.CreateToken(ctx, "acme", "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	srv := receiver.New(st.SCIM(), log, receiver.Options{PublicURL: "http://127.0.0.1:8080"})
	return lookupBench{h: srv.Mount("/scim/v2"), token: token, n: n}
}

func benchUserName(i int) string { return fmt.Sprintf("user%07d@example.org", i) }

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// that the benchmark counts the receiver's allocations, not a recorder's.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// BenchmarkLookup is one IdP lookup, GET /Users?filter=userName eq "…",
// through the mounted receiver on a real SQLite store of 20k members,
// with the per-request log line written (as orgsync serve does, JSON at
// info) and without. Its allocs/op and B/op are load-independent: issue
// 16 traced the lookups' p99 under 16 clients to the GC they drive.
func BenchmarkLookup(b *testing.B) {
	for _, bc := range []struct {
		name string
		log  zerolog.Logger
	}{
		{"log", zerolog.New(io.Discard).Level(zerolog.InfoLevel).With().Timestamp().Logger()},
		{"nolog", zerolog.Nop()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lb := newLookupBench(b, 20_000, bc.log)
			reqs := make([]*http.Request, 64)
			for i := range reqs {
				q := url.QueryEscape(`userName eq "` + benchUserName(i*311%lb.n) + `"`)
				r, err := http.NewRequest("GET", "http://127.0.0.1:8080/scim/v2/Users?filter="+q, nil)
				if err != nil {
					b.Fatal(err)
				}
				// net/http serves every request with a cancellable
				// context (cancelled when the client goes away).
				ctx, cancel := context.WithCancel(context.Background())
				b.Cleanup(cancel)
				r = r.WithContext(ctx)
				r.RemoteAddr = "127.0.0.1:40000"
				r.Header.Set("Authorization", "Bearer "+lb.token)
				reqs[i] = r
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			created := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
			metrics.Read(created)
			before := created[0].Value.Uint64()
			i := 0
			for b.Loop() {
				clear(w.h)
				w.status = 0
				lb.h.ServeHTTP(w, reqs[i%len(reqs)])
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
				i++
			}
			metrics.Read(created)
			// Each goroutine started is a trip through the run queue,
			// behind every other request's work: the lookup's tail.
			b.ReportMetric(float64(created[0].Value.Uint64()-before)/float64(b.N), "goroutines/op")
		})
	}
}

// TestLookupStartsNoGoroutine pins what BenchmarkLookup measures: a SCIM
// lookup on SQLite, served with a cancellable request context as net/http
// serves it, starts no goroutine (the driver started one per row and
// database/sql one per query, six a lookup, each a wait in the run queue
// under concurrent load).
func TestLookupStartsNoGoroutine(t *testing.T) {
	e := newEnv(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db")}, receiver.Options{})
	if r := e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"g@example.org"}`)); r.status != 201 {
		t.Fatal(r.status, string(r.raw))
	}
	h := receiver.New(e.st.SCIM(), zerolog.Nop(), receiver.Options{PublicURL: "http://127.0.0.1:8080"}).Mount("/scim/v2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:8080/scim/v2/Users?filter="+url.QueryEscape(`userName eq "g@example.org"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+e.token)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, r) // warm: statements prepared, connections open
	created := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(created)
	before := created[0].Value.Uint64()
	const n = 50
	for range n {
		clear(w.h)
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			t.Fatalf("status %d", w.status)
		}
	}
	metrics.Read(created)
	// A few may come from elsewhere in the process (the test server); one
	// per lookup or more is the driver's.
	if got := created[0].Value.Uint64() - before; got >= n {
		t.Fatalf("%d lookups started %d goroutines, want none of their own", n, got)
	}
}
