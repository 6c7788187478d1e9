package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
)

// Source reads the desired members and groups of one org from a SCIM 2.0
// service provider.
type Source struct {
	name    string
	cfg     Config
	log     zerolog.Logger
	token   orgsync.Secret
	base    *url.URL
	client  *http.Client
	mapping mapping

	userFilter, groupFilter filter.Expression

	maxRetries int
	maxBody    int64
	maxPages   int

	mu       sync.Mutex
	progress func(orgsync.Progress)
	// lastDate is the Date header of the last answer (the server's clock,
	// for incremental reads).
	lastDate time.Time

	// Now is the clock (for Retry-After dates) and Sleep waits between
	// attempts, returning early with an error when ctx ends. New sets them
	// to the real ones; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	rand  func(n int64) int64
}

// New returns the source called name (Open, its errors naming the source).
func New(name string, cfg Config, log zerolog.Logger) (*Source, error) {
	s, err := cfg.Open(name, log)
	if err != nil {
		return nil, fmt.Errorf("scim: source %q: %w", name, err)
	}
	return s, nil
}

// Open returns the source called name (the owner of what it provisions)
// for cfg, after defaulting and validating it and reading and checking the
// token. The error lists every problem, each naming its key.
func (cfg Config) Open(name string, log zerolog.Logger) (*Source, error) {
	cfg.SetDefaults()
	token, err := cfg.token()
	if err := errors.Join(cfg.Validate(), err); err != nil {
		return nil, err
	}
	base, _ := url.Parse(cfg.BaseURL) // checked by Validate
	transport, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMapping(cfg)
	if err != nil {
		return nil, err
	}
	s := &Source{
		name: name, cfg: cfg, token: token, base: base, mapping: m,
		log:        log.With().Str("source", name).Logger(),
		client:     &http.Client{Transport: transport, CheckRedirect: checkRedirect},
		maxRetries: *cfg.MaxRetries,
		maxBody:    cfg.MaxResponseBytes,
		maxPages:   DefaultMaxPages,
		Now:        time.Now,
		Sleep:      defaultSleep,
		rand:       defaultRand,
	}
	if cfg.UserFilter != "" {
		s.userFilter, _ = filter.ParseFilter([]byte(cfg.UserFilter)) // checked by Validate
	}
	if cfg.GroupFilter != "" {
		s.groupFilter, _ = filter.ParseFilter([]byte(cfg.GroupFilter))
	}
	if cfg.InsecureSkipVerify {
		s.log.Warn().Str("base_url", base.Redacted()).
			Msg("scim.insecure_skip_verify is set: the server's TLS certificate is not verified, so anyone on the path can read the token and forge the directory")
	}
	return s, nil
}

// OnProgress registers f to be told the running counts during Snapshot.
func (s *Source) OnProgress(f func(orgsync.Progress)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress = f
}

func (s *Source) report(p orgsync.Progress) {
	s.mu.Lock()
	f := s.progress
	s.mu.Unlock()
	if f != nil {
		f(p)
	}
}

// Snapshot reads every user and group, or fails: see the package
// documentation for what counts as a failure.
func (s *Source) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	started := s.Now()
	users, groups, err := s.readAll(ctx)
	if err != nil {
		return orgsync.Snapshot{}, err
	}
	snap, err := assemble(users, groups, s.cfg.RoleMap, s.cfg.UserFilter != "")
	if err != nil {
		return orgsync.Snapshot{}, fmt.Errorf("scim: source %q: %w", s.name, err)
	}
	s.log.Info().Int("users", len(snap.Members)).Int("groups", len(snap.Groups)).
		Int("held_users", len(snap.HeldUsers)).Int("held_groups", len(snap.HeldGroups)).
		Int("warnings", len(snap.Warnings)).Dur("took", s.Now().Sub(started)).Msg("scim snapshot read")
	return snap, nil
}

// readAll lists every user and group (groups completed), or fails.
func (s *Source) readAll(ctx context.Context) ([]entry[user], []entry[scimGroup], error) {
	var prog orgsync.Progress
	users, err := list(ctx, s, "Users", s.cfg.UserFilter, s.cfg.PageSize, s.decodeUser, func(n int) {
		prog.Users = n
		s.report(prog)
	})
	if err != nil {
		return nil, nil, err
	}
	var groups []entry[scimGroup]
	if !s.cfg.SkipGroups {
		groups, err = list(ctx, s, "Groups", s.cfg.GroupFilter, s.cfg.GroupPageSize, s.decodeGroup, func(n int) {
			prog.Groups = n
			s.report(prog)
		})
		if err != nil {
			return nil, nil, err
		}
		if err := s.completeGroups(ctx, groups); err != nil {
			return nil, nil, fmt.Errorf("scim: source %q: %w", s.name, err)
		}
	}
	return users, groups, nil
}

func (s *Source) decodeUser(raw json.RawMessage) entry[user] {
	obj, err := decodeObject(raw)
	if err != nil {
		return entry[user]{skip: fmt.Sprintf("not a JSON object: %v", err)}
	}
	u, problem := s.mapping.user(obj)
	e := entry[user]{id: u.remoteID, val: u, skip: problem}
	if problem == "" && s.userFilter != nil && !mayMatch(s.userFilter, obj) {
		e.skip, e.unmatched = "does not match scim.user_filter", true
	}
	return e
}

func (s *Source) decodeGroup(raw json.RawMessage) entry[scimGroup] {
	obj, err := decodeObject(raw)
	if err != nil {
		return entry[scimGroup]{skip: fmt.Sprintf("not a JSON object: %v", err)}
	}
	g, problem := group(obj)
	e := entry[scimGroup]{id: g.ID, val: g, skip: problem}
	if problem == "" && s.groupFilter != nil && !mayMatch(s.groupFilter, obj) {
		e.skip, e.unmatched = "does not match scim.group_filter", true
	}
	return e
}
