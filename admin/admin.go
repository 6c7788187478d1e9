package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/authlimit"
)

// Store is what the admin API reads and changes.
type Store interface {
	// Members lists the org's live members with their group names;
	// ErrNotFound for an unknown org.
	Members(ctx context.Context, org string, status orgsync.Status) ([]orgsync.Member, error)
	// CompleteSetup marks the member's master key created; ErrNotFound for
	// an unknown org or member, ErrInvalid for a deprovisioned one.
	CompleteSetup(ctx context.Context, org, idOrUserName, actor string) (orgsync.Member, error)
	// Runs lists reconcile runs, newest first, without their plans.
	Runs(ctx context.Context, source string, limit int) ([]orgsync.Run, error)
	// Run returns one run with its plan; ErrNotFound for an unknown id.
	Run(ctx context.Context, id int64) (orgsync.Run, error)
	// Events returns events after seq, oldest first.
	Events(ctx context.Context, org string, after int64, limit int) ([]orgsync.Event, error)
}

// Options tune the admin API; the zero value is usable.
type Options struct {
	// FailedAuthLimit failed authentications from one address within
	// FailedAuthWindow get 429 with Retry-After until the window ends,
	// even with the right token (defaults 20 and 1 minute).
	FailedAuthLimit  int
	FailedAuthWindow time.Duration
	// ClientAddr names the client of a request for that limit (default:
	// the host of RemoteAddr; behind a reverse proxy, the forwarded
	// client).
	ClientAddr func(*http.Request) string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Approve applies the recorded plan of a run a guard blocked and
	// returns the approval's own run record (see approve.go); nil: the
	// route answers 501.
	Approve ApproveFunc
}

// API serves /api/v1 (except /api/v1/scim, which is the receiver's).
type API struct {
	store   Store
	approve ApproveFunc
	log     zerolog.Logger
	token   [32]byte // SHA-256 of the admin token; zero when none is set
	set     bool
	mux     *http.ServeMux
	limiter *authlimit.Limiter
	client  func(*http.Request) string
}

// New returns the admin API. With an empty token every request is refused:
// the API is off until an admin token is configured.
func New(st Store, adminToken orgsync.Secret, log zerolog.Logger, opts Options) *API {
	if opts.FailedAuthLimit <= 0 {
		opts.FailedAuthLimit = 20
	}
	if opts.FailedAuthWindow <= 0 {
		opts.FailedAuthWindow = time.Minute
	}
	if opts.ClientAddr == nil {
		opts.ClientAddr = remoteHost
	}
	a := &API{store: st, approve: opts.Approve, log: log, mux: http.NewServeMux(), client: opts.ClientAddr,
		limiter: authlimit.New(opts.FailedAuthLimit, opts.FailedAuthWindow, opts.Now)}
	if adminToken != "" {
		a.token, a.set = sha256.Sum256([]byte(adminToken.Reveal())), true
	}
	a.mux.HandleFunc("GET /api/v1/orgs/{org}/members", a.members)
	a.mux.HandleFunc("POST /api/v1/orgs/{org}/members/{id}/setup-complete", a.setupComplete)
	a.mux.HandleFunc("GET /api/v1/runs", a.runs)
	a.mux.HandleFunc("GET /api/v1/runs/{id}", a.run)
	a.mux.HandleFunc("POST /api/v1/runs/{id}/approve", a.approveRun)
	a.mux.HandleFunc("GET /api/v1/events", a.events)
	return a
}

// ServeHTTP authenticates, then routes. An address with too many recent
// failures is answered 429 without its token being looked at.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr := a.client(r)
	if wait, blocked := a.limiter.Blocked(addr); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "too many failed authentications; retry later")
		return
	}
	if !a.authorized(r) {
		a.limiter.Fail(addr)
		a.log.Warn().Str("remote", addr).Msg("admin: authentication failed")
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgsync-admin"`)
		writeError(w, http.StatusUnauthorized, "missing or invalid admin token")
		return
	}
	a.mux.ServeHTTP(w, r)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (a *API) authorized(r *http.Request) bool {
	// The scheme is case-insensitive (RFC 9110 §11.1), as the receiver
	// takes it.
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" || !a.set {
		return false
	}
	// Compare digests: constant time whatever the presented length.
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], a.token[:]) == 1
}

func (a *API) members(w http.ResponseWriter, r *http.Request) {
	status := orgsync.Status(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		writeError(w, http.StatusBadRequest, "status must be pending_setup, active or deprovisioned")
		return
	}
	ms, err := a.store.Members(r.Context(), r.PathValue("org"), status)
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, NewMember(m))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) setupComplete(w http.ResponseWriter, r *http.Request) {
	// A body is optional; when present it must be a JSON object.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "unreadable body: "+err.Error())
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
			return
		}
	}
	m, err := a.store.CompleteSetup(r.Context(), r.PathValue("org"), r.PathValue("id"), "admin-api")
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, NewMember(m))
}

func (a *API) runs(w http.ResponseWriter, r *http.Request) {
	limit, ok := intParam(w, r, "limit", 100)
	if !ok {
		return
	}
	runs, err := a.store.Runs(r.Context(), r.URL.Query().Get("source"), int(limit))
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]runJSON, len(runs))
	for i, r := range runs {
		out[i] = runJSON{r, r.Duration().Milliseconds()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

// runJSON is a run as the API shows it: the record and how long it took.
type runJSON struct {
	orgsync.Run
	DurationMS int64 `json:"duration_ms"`
}

// run shows one run with the plan it reviewed or applied.
func (a *API) run(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "run id must be a positive integer")
		return
	}
	run, err := a.store.Run(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, runJSON{run, run.Duration().Milliseconds()})
}

func (a *API) events(w http.ResponseWriter, r *http.Request) {
	after, ok := intParam(w, r, "after", 0)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 1000)
	if !ok {
		return
	}
	evs, err := a.store.Events(r.Context(), r.URL.Query().Get("org"), after, int(limit))
	if err != nil {
		a.fail(w, err)
		return
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Seq
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "next_after": next})
}

func intParam(w http.ResponseWriter, r *http.Request, name string, def int64) (int64, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, name+" must be a non-negative integer")
		return 0, false
	}
	return n, true
}

// fail maps domain error kinds to statuses.
func (a *API) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, orgsync.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, orgsync.ErrInvalid), errors.Is(err, orgsync.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		a.log.Error().Err(err).Msg("admin api")
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
