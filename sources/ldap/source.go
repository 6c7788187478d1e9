package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/statepatch"
	"github.com/orgsync/orgsync/internal/tlsconf"
	"github.com/orgsync/orgsync/reconciler"
)

// Source reads the Snapshot of one org from an LDAP directory.
type Source struct {
	name     string
	cfg      Config
	password string
	log      zerolog.Logger
	dial     dialFunc
	// dialRefresh opens the connection of the sync refreshes.
	dialRefresh refreshDialFunc
	progress    func(orgsync.Progress)

	// Now is the clock used for AD's accountExpires; time.Now by default.
	Now func() time.Time

	// keep: KeepDecodedState was called; decoded is the last state this
	// source read, as decodeState reads it, for the next read to take.
	keep    bool
	mu      sync.Mutex
	decoded *decodedState
}

// KeepDecodedState makes the source keep, between its reads, the state it
// last read in the decoded form an incremental read works on, so that the
// next read from that state (the store hands it back as the cursor's, the
// same bytes) does not decode it again: about 55 ms of CPU, and as much
// garbage as the state holds, at 100k users. For a daemon (serve), whose
// reads of one source never overlap: the kept form is the last read's own
// entries (some 35 MB at 100k users, held between runs), which the next
// read changes in place; a one-off process would only hold them longer.
func (s *Source) KeepDecodedState() { s.keep = true }

// putDecoded keeps d, with what the snapshot of its read made of the
// groups and the key hashes of its duplicate check (when
// KeepDecodedState was called).
func (s *Source) putDecoded(d *decodedState, groups *snapGroups, dups *userHashes) {
	if !s.keep || d == nil {
		return
	}
	d.snap, d.dups = groups, dups
	s.mu.Lock()
	s.decoded = d
	s.mu.Unlock()
}

// HeldState returns the ID of the state the source keeps
// (KeepDecodedState), "" when it keeps none: the store need not hand it
// back (reconciler.StateHolder), and SnapshotFrom reads a cursor that
// comes with StateHeld from the kept bytes.
func (s *Source) HeldState() string {
	if !s.keep {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decoded == nil {
		return ""
	}
	return s.decoded.id.String()
}

// heldBytes returns the bytes of the state kept (the one HeldState
// names), false when none is.
func (s *Source) heldBytes() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decoded == nil {
		return nil, false
	}
	return s.decoded.b, true
}

var _ reconciler.StateHolder = (*Source)(nil)

// sameBytes reports whether a and b are the very same bytes (not only
// equal ones): the kept state handed back as it was.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// takeDecoded returns the kept decoded state, when the source keeps the
// one of these very bytes, with its users and groups brought to the
// decoded form; and forgets it: the read merges into them in place.
func (s *Source) takeDecoded(state []byte) (*decodedState, bool) {
	if !s.keep {
		return nil, false
	}
	s.mu.Lock()
	d := s.decoded
	s.decoded = nil
	s.mu.Unlock()
	if d == nil || !(sameBytes(d.b, state) || d.id == statepatch.IDOf(state)) {
		return nil, false
	}
	d.decoded()
	return d, true
}

var _ interface {
	Snapshot(context.Context) (orgsync.Snapshot, error)
} = (*Source)(nil)

// New returns the source called name (Open, its errors naming the source).
func New(name string, cfg Config, log zerolog.Logger) (*Source, error) {
	s, err := cfg.Open(name, log)
	if err != nil {
		return nil, fmt.Errorf("ldap source %q: %w", name, err)
	}
	return s, nil
}

// Open returns the source called name that cfg configures. cfg gets its
// defaults and must be valid; the bind password is read (from its file) and
// checked now. The error lists every problem, each naming its key.
func (cfg Config) Open(name string, log zerolog.Logger) (*Source, error) {
	cfg.SetDefaults()
	pw, err := cfg.password()
	if err := errors.Join(cfg.Validate(), err); err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CAFile != "" {
		if tlsCfg.RootCAs, err = tlsconf.CertPool(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("ldap.ca_file: %w", err)
		}
	}
	log = log.With().Str("source", name).Logger()
	if cfg.InsecureSkipVerify {
		log.Warn().Msg("ldap.insecure_skip_verify is set: the server's TLS certificate is not checked")
	}
	return &Source{
		name:        name,
		cfg:         cfg,
		password:    pw.Reveal(),
		log:         log,
		dial:        dialWire(&cfg, tlsCfg),
		dialRefresh: newRefreshDialer(&cfg, tlsCfg, pw.Reveal()),
		Now:         time.Now,
	}, nil
}

// OnProgress registers f, called after every page with the counts so far.
func (s *Source) OnProgress(f func(orgsync.Progress)) { s.progress = f }

// Name is the source's name.
func (s *Source) Name() string { return s.name }

// Snapshot reads every in-scope user and every group, or fails.
func (s *Source) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	start := time.Now()
	c, _, err := s.connect(ctx)
	if err != nil {
		return orgsync.Snapshot{}, s.wrap(err)
	}
	defer c.Close()
	r := newReader(s, c)
	snap, err := r.read(ctx)
	if err != nil {
		return orgsync.Snapshot{}, s.wrap(err)
	}
	s.log.Info().Int("users", len(snap.Members)).Int("groups", len(snap.Groups)).
		Int("held_users", len(snap.HeldUsers)).Int("held_groups", len(snap.HeldGroups)).
		Int("warnings", len(snap.Warnings)).Dur("took", time.Since(start)).Msg("ldap snapshot read")
	return snap, nil
}

func (s *Source) wrap(err error) error {
	return fmt.Errorf("ldap source %q: %w", s.name, err)
}

// connect dials the URLs in order until one answers, then binds; it
// returns the URL that answered.
func (s *Source) connect(ctx context.Context) (conn, string, error) {
	var errs []error
	for i, u := range s.cfg.URLList() {
		key := "ldap.url"
		if i > 0 || u != s.cfg.URL {
			key = "ldap.urls"
		}
		c, err := s.dial(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", &ldapError{op: fmt.Sprintf("connect to %s (%s)", u, key), err: ctx.Err()}
			}
			s.log.Warn().Str("url", u).Err(err).Msg("ldap server not reachable")
			errs = append(errs, &ldapError{op: fmt.Sprintf("connect to %s (%s)", u, key), err: err})
			continue
		}
		bctx, cancel := context.WithTimeout(ctx, s.cfg.BindTimeout.TimeDuration())
		err = c.Bind(bctx, s.cfg.BindDN, s.password)
		cancel()
		if err != nil {
			c.Close()
			return nil, "", bindError(s.cfg.BindDN, err)
		}
		s.log.Debug().Str("url", u).Msg("ldap bound")
		return c, u, nil
	}
	return nil, "", errors.Join(errs...)
}
