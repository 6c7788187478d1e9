package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/authlimit"
)

// OwnerView is what the receiver needs of the store: an owner-scoped
// view, in which every method acts only on what owner "scim" owns in org
// (store.OwnerView, from Store.SCIM; see package store for the
// contracts). Errors are the kinds of package orgsync.
type OwnerView interface {
	// Authenticate returns the token's record (its Org) or ErrUnauthorized.
	Authenticate(ctx context.Context, token string) (orgsync.Token, error)

	Member(ctx context.Context, org, id string) (orgsync.Member, error)
	Members(ctx context.Context, org string, q orgsync.Query) ([]orgsync.Member, int, error)
	CreateMember(ctx context.Context, org string, m orgsync.Member) (orgsync.Member, error)
	UpdateMember(ctx context.Context, org, id string, ifVersion int64, change func(*orgsync.Member) error) (orgsync.Member, error)
	DeleteMember(ctx context.Context, org, id string, ifVersion int64) error

	Group(ctx context.Context, org, id string, members bool) (orgsync.Group, map[string]orgsync.Member, error)
	Groups(ctx context.Context, org string, q orgsync.Query, members bool) ([]orgsync.Group, map[string]orgsync.Member, int, error)
	// GroupsMembers returns the members (as Group attaches them, by
	// userName) of the leading groups of groupIDs while they fit budget
	// together; the groups from the first that does not fit on are absent.
	GroupsMembers(ctx context.Context, org string, groupIDs []string, budget int) (map[string][]orgsync.Member, error)
	CreateGroup(ctx context.Context, org string, g orgsync.Group) (orgsync.Group, error)
	UpdateGroup(ctx context.Context, org, id string, ifVersion int64, p orgsync.GroupPatch) (orgsync.Group, error)
	DeleteGroup(ctx context.Context, org, id string, ifVersion int64) error
}

// Options tune the receiver. Zero values take the defaults.
type Options struct {
	// PublicURL is how clients reach the server (server.public_url), e.g.
	// https://sync.example.com; Mount appends its prefix to make the SCIM
	// base URL of meta.location and Location headers.
	PublicURL string
	// MaxBodyBytes bounds request bodies (default 1 MiB; larger: 413).
	MaxBodyBytes int64
	// MaxResults caps count in lists (default 1000, declared in
	// ServiceProviderConfig); DefaultCount is the page size when the
	// client gives none (default 100).
	MaxResults   int
	DefaultCount int
	// MaxListMembers caps the member values of one group list response
	// (default 10,000): the leading groups of the page carry their members
	// while they fit, the others are listed without them. MaxGroupMembers
	// is the cap of a GET of one group (default 100,000), past which it is
	// answered without members. Both are declared in
	// ServiceProviderConfig.
	MaxListMembers  int
	MaxGroupMembers int
	// HeavyPerOrg bounds the group reads with members one org runs at once
	// (default 2); one more waits up to HeavyWait (default 5s) for a slot,
	// then gets 503 with Retry-After.
	HeavyPerOrg int
	HeavyWait   time.Duration
	// FailedAuthLimit failed authentications from one address within
	// FailedAuthWindow get 429 with Retry-After until the window ends
	// (defaults 20 and 1 minute).
	FailedAuthLimit  int
	FailedAuthWindow time.Duration
	// ClientAddr names the client of a request for the failed-auth limit
	// (default: the host of RemoteAddr). Behind a reverse proxy, set it to
	// read the proxy's forwarding header, or the proxy itself gets limited.
	ClientAddr func(*http.Request) string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnRequest, when set, is told of every request once it is answered
	// (metrics). Every request is also logged, one line each, at info (4xx
	// at warn, 5xx at error).
	OnRequest func(Request)
}

func (o *Options) setDefaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxResults <= 0 {
		o.MaxResults = 1000
	}
	if o.DefaultCount <= 0 {
		o.DefaultCount = min(100, o.MaxResults)
	}
	if o.MaxListMembers <= 0 {
		o.MaxListMembers = 10_000
	}
	if o.MaxGroupMembers <= 0 {
		o.MaxGroupMembers = max(100_000, o.MaxListMembers)
	}
	if o.HeavyPerOrg <= 0 {
		o.HeavyPerOrg = 2
	}
	if o.HeavyWait <= 0 {
		o.HeavyWait = 5 * time.Second
	}
	if o.FailedAuthLimit <= 0 {
		o.FailedAuthLimit = 20
	}
	if o.FailedAuthWindow <= 0 {
		o.FailedAuthWindow = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClientAddr == nil {
		o.ClientAddr = remoteHost
	}
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
}

// Server is the SCIM service provider. It serves paths relative to the
// SCIM base ("/Users", "/Groups/{id}", "/Schemas", …).
type Server struct {
	st      OwnerView
	log     zerolog.Logger
	opts    Options
	limiter *authlimit.Limiter
	heavy   *heavySlots
}

// New returns the SCIM receiver over st.
func New(st OwnerView, log zerolog.Logger, opts Options) *Server {
	opts.setDefaults()
	return &Server{st: st, log: log, opts: opts, limiter: authlimit.New(opts.FailedAuthLimit, opts.FailedAuthWindow, opts.Now),
		heavy: newHeavySlots(opts.HeavyPerOrg, opts.HeavyWait)}
}

// Mount returns a handler serving the receiver under prefix (e.g.
// "/scim/v2" or "/api/v1/scim"): it strips the prefix, and the resources'
// locations are PublicURL+prefix+"/Users/…".
//
//	mux.Handle("/scim/v2/", scim.Mount("/scim/v2"))
func (s *Server) Mount(prefix string) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/")
	base := s.opts.PublicURL + prefix
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			s.fail(w, r, errorf(http.StatusNotFound, "", "no such endpoint"))
			return
		}
		s.serve(w, r, base, rest)
	})
}

// ServeHTTP serves r.URL.Path as a path relative to the SCIM base, which
// is PublicURL itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, s.opts.PublicURL, r.URL.Path)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, base, path string) {
	start := s.opts.Now()
	req := &Request{Method: r.Method, Path: r.URL.Path, Remote: s.opts.ClientAddr(r)}
	rec := &recorder{ResponseWriter: w}
	w = rec
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, req))
	defer func() {
		req.Status, req.Bytes, req.Duration = rec.status, rec.bytes, s.opts.Now().Sub(start)
		if req.Status == 0 {
			req.Status = http.StatusOK
		}
		s.record(req)
	}()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error().Interface("panic", v).Str("method", r.Method).Str("path", r.URL.Path).Msg("scim: handler panicked")
			s.fail(w, r, errors.New("panic"))
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes+1)
	parts := strings.Split(strings.Trim(path, "/"), "/")
	endpoint, rest := parts[0], ""
	req.Endpoint = endpoint
	if len(parts) > 1 {
		rest = "/" + strings.Join(parts[1:], "/")
	}
	switch endpoint {
	case "ServiceProviderConfig", "ResourceTypes", "Schemas":
		if r.Header.Get("Authorization") != "" {
			if _, ok := s.authenticate(w, r); !ok {
				return
			}
		}
		s.discovery(w, r, base, endpoint, rest)
		return
	}
	org, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	id := strings.TrimPrefix(rest, "/")
	if strings.Contains(id, "/") || !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 || len(id) > 256 {
		s.fail(w, r, errorf(http.StatusNotFound, "", "no such resource"))
		return
	}
	ctx := r.Context()
	switch endpoint {
	case resourceUsers:
		s.users(ctx, w, r, base, org, id)
	case resourceGroups:
		s.groups(ctx, w, r, base, org, id)
	case "Bulk", "Me":
		s.fail(w, r, errorf(http.StatusNotImplemented, "", "%s is not supported", endpoint))
	default:
		s.fail(w, r, errorf(http.StatusNotFound, "", "no such endpoint %q", endpoint))
	}
}

// authenticate resolves the bearer token to its org, answering 401 (or
// 429 for an address with too many recent failures) itself.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	addr := s.opts.ClientAddr(r)
	if wait, blocked := s.limiter.Blocked(addr); blocked {
		audit(r.Context()).quiet = true
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.fail(w, r, errorf(http.StatusTooManyRequests, "", "too many failed authentications; retry later"))
		return "", false
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		s.failedAuth(addr, "no bearer token")
		s.unauthorized(w, r, "a bearer token is required")
		return "", false
	}
	t, err := s.st.Authenticate(r.Context(), token)
	if errors.Is(err, orgsync.ErrUnauthorized) {
		s.failedAuth(addr, err.Error())
		s.unauthorized(w, r, "the bearer token is invalid, expired or revoked")
		return "", false
	}
	if err != nil {
		s.fail(w, r, err)
		return "", false
	}
	req := audit(r.Context())
	req.Org, req.TokenID = t.Org, t.ID
	return t.Org, true
}

// failedAuth counts a failed authentication of client addr. It logs the
// first failure of the client's window and the one that reaches the
// limit, not every one: a client guessing tokens must not flood the log.
func (s *Server) failedAuth(addr, reason string) {
	switch n := s.limiter.Fail(addr); n {
	case 1:
		s.log.Warn().Str("remote", addr).Str("reason", reason).Msg("scim: authentication failed")
	case s.opts.FailedAuthLimit:
		s.log.Warn().Str("remote", addr).Str("reason", reason).Int("failures", n).Dur("window", s.opts.FailedAuthWindow).
			Msg("scim: authentication failed; this client is refused (429) until its window ends, and further failures are not logged")
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="orgsync"`)
	s.fail(w, r, errorf(http.StatusUnauthorized, "", "%s", detail))
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// write sends a SCIM JSON document.
func (s *Server) write(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		s.log.Error().Err(err).Msg("scim: encode response")
		status, b = http.StatusInternalServerError, []byte(`{"schemas":["`+schemaError+`"],"status":"500","detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fail answers err as a SCIM error; unexpected errors are logged and
// answered 500 without detail. A 503 (the store is busy) carries
// Retry-After, so IdPs retry it later rather than count a failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := answer(err)
	if !ok {
		s.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("scim: request failed")
	}
	if e.status >= 400 && e.status < 500 {
		audit(r.Context()).Detail = e.detail
	}
	switch {
	case e == errBusy:
		w.Header().Set("Retry-After", retryAfterHeavy)
	case e.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterBusy)
		s.log.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("scim: store busy; answered 503")
	}
	s.write(w, e.status, e.body())
}

// notAllowed answers 405 naming the allowed methods.
func (s *Server) notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	s.fail(w, r, errorf(http.StatusMethodNotAllowed, "", "%s is not allowed here", r.Method))
}
