package kmsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Server.
type Options struct {
	// Token is the SCIM bearer token of the org.
	Token string
	// NoSSO and SCIMDisabled break the SCIM preconditions.
	NoSSO, SCIMDisabled bool
	// ClientID and ClientSecret are the super-admin machine identity's.
	ClientID, ClientSecret string
	// RateLimit (requests per second, burst of the same) answers 429 past
	// it; 0: none.
	RateLimit float64
	// PatchDelay is how long a group PATCH holds its read before writing.
	PatchDelay time.Duration
	// Latency delays every answer (a slow KMS, to kill a run mid-apply).
	Latency time.Duration
	// TLS serves HTTPS with httptest's self-signed certificate (its
	// Certificate is then the CA to trust).
	TLS bool
}

// Membership is one org membership (a SCIM user).
type Membership struct {
	ID, UserName, GivenName, FamilyName, Email string
	Active                                     bool
	// Status is "invited" or "accepted".
	Status string
}

// Group is one group; Members maps membership ids to pending.
type Group struct {
	ID, Name string
	Members  map[string]bool
}

// Server is the emulated KMS.
type Server struct {
	*httptest.Server
	opts    Options
	limiter *rate.Limiter

	mu       sync.Mutex
	seq      int
	users    map[string]*Membership
	order    []string
	groups   map[string]*Group
	gorder   []string
	invites  int
	conflict int
	tokens   map[string]bool
	counts   map[string]int
	requests atomic.Int64

	// Fail, when set, is asked first for every request: a status other
	// than 0 is answered at once. FailAfter is asked after the request
	// was carried out: a status other than 0 replaces the answer (the
	// KMS did it, the client is told it failed).
	Fail      func(r *http.Request) int
	FailAfter func(r *http.Request) int
}

// New starts a KMS emulator; Close stops it.
func New(o Options) *Server {
	s := &Server{opts: o, users: map[string]*Membership{}, groups: map[string]*Group{}, tokens: map[string]bool{}, counts: map[string]int{}}
	if o.RateLimit > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(o.RateLimit), max(1, int(o.RateLimit)))
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if o.TLS {
		s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes a test refuses
		s.StartTLS()
	} else {
		s.Start()
	}
	return s
}

func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%06d", prefix, s.seq)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	s.counts[r.Method]++
	s.mu.Unlock()
	if s.Fail != nil {
		if code := s.Fail(r); code != 0 {
			writeErr(w, code, "injected failure")
			return
		}
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	if s.limiter != nil && !s.limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		writeErr(w, http.StatusTooManyRequests, "rate limit exceeded")
		return
	}
	if s.FailAfter != nil {
		if code := s.FailAfter(r); code != 0 {
			s.route(httptest.NewRecorder(), r)
			writeErr(w, code, "injected failure after the change")
			return
		}
	}
	s.route(w, r)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/api/v1/auth/universal-auth/login" && r.Method == "POST":
		s.login(w, r)
	case p == "/api/v1/admin/organization-management/organizations" && r.Method == "GET":
		s.orgs(w, r)
	case strings.HasPrefix(p, "/api/v1/scim/"):
		s.scim(w, r, strings.TrimPrefix(p, "/api/v1/scim/"))
	default:
		writeErr(w, http.StatusNotFound, "no route")
	}
}

// writeErr answers a SCIM-style error the way the KMS does: status as a
// JSON number.
func writeErr(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": code, "detail": detail})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ ClientID, ClientSecret string }
	if json.NewDecoder(r.Body).Decode(&in) != nil || s.opts.ClientID == "" || in.ClientID != s.opts.ClientID || in.ClientSecret != s.opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401, "message": "Invalid credentials"})
		return
	}
	s.mu.Lock()
	tok := s.id("at")
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "expiresIn": 7200, "tokenType": "Bearer"})
}

func (s *Server) orgs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401, "message": "Unauthorized"})
		return
	}
	members := []map[string]any{}
	for _, id := range s.order {
		m := s.users[id]
		members = append(members, map[string]any{"membershipId": m.ID, "role": "member", "status": m.Status,
			"user": map[string]any{"id": "user-" + m.ID, "username": m.UserName, "email": m.Email}})
	}
	orgs := []map[string]any{{"id": "org-1", "name": "emulated", "members": members}}
	if r.URL.Query().Get("offset") != "" && r.URL.Query().Get("offset") != "0" {
		orgs = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": orgs, "total": 1})
}

// Accept is a user finishing account setup: their membership becomes
// accepted and their pending group memberships real.
func (s *Server) Accept(userName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.users {
		if strings.EqualFold(m.UserName, userName) {
			m.Status = "accepted"
			for _, g := range s.groups {
				if _, ok := g.Members[m.ID]; ok {
					g.Members[m.ID] = false
				}
			}
			return true
		}
	}
	return false
}

// Users returns a copy of every membership, in creation order.
func (s *Server) Users() []Membership {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Membership, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.users[id])
	}
	return out
}

// Groups returns a copy of every group, in creation order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(s.gorder))
	for _, id := range s.gorder {
		g := s.groups[id]
		cp := Group{ID: g.ID, Name: g.Name, Members: map[string]bool{}}
		for k, v := range g.Members {
			cp.Members[k] = v
		}
		out = append(out, cp)
	}
	return out
}

// AddUnmanaged creates a membership orgsync did not make (the org's own
// admin, say).
func (s *Server) AddUnmanaged(userName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(Membership{UserName: userName, Email: userName, Active: true, Status: "accepted"})
}

func (s *Server) create(m Membership) string {
	m.ID = s.id("mem")
	s.users[m.ID] = &m
	s.order = append(s.order, m.ID)
	return m.ID
}

// Invites is how many invitation emails the KMS would have sent.
func (s *Server) Invites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invites
}

// Conflicts is how many creates named a userName or displayName that
// existed (a client creating what it should have matched): a user create
// answers with the existing membership (and invites again), a group create
// is refused with 409, as the KMS does.
func (s *Server) Conflicts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conflict
}

// Requests is how many requests the emulator answered.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Counts returns the requests by method.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetCounts zeroes the request counters.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
	s.requests.Store(0)
}

func (s *Server) sortedGroupMembers(g *Group) []string {
	ids := make([]string, 0, len(g.Members))
	for id := range g.Members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
