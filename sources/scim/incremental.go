package scim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

var _ reconciler.Incremental = (*Source)(nil)

// cursorMargin is how far before the server's Date at the start of a read
// the next incremental read starts: a change stamped by another of the
// provider's hosts, a little behind the one that answered, is not missed.
const cursorMargin = 2 * time.Minute

// stateLayout is the layout of the encoded state (in the fingerprint).
const stateLayout = 1

type savedUser struct {
	ID, Skip  string
	Unmatched bool
	Member    orgsync.Member
}

type savedGroup struct {
	ID, Skip   string
	Unmatched  bool
	Name       string
	Members    []groupMember
	HasMembers bool
}

type savedState struct {
	Users  []savedUser
	Groups []savedGroup
}

// staleError: the stored state and what the provider lists disagree in a
// way only a full read resolves.
type staleError struct{ reason string }

func (e *staleError) Error() string { return e.reason }

// SnapshotFrom reads incrementally when the provider declares filter
// support (ServiceProviderConfig filter.supported): the users and groups
// with meta.lastModified after the cursor, merged into the stored state,
// with a keys-only listing (attributes=id) as the deletion check. The
// cursor is the provider's own clock (the Date of its first answer) less
// two minutes. Otherwise, and when the cursor cannot be honoured, it reads
// in full.
func (s *Source) SnapshotFrom(ctx context.Context, req reconciler.ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	started := s.Now()
	prev := req.Prev
	read := orgsync.Read{Kind: orgsync.ReadFull, Reason: req.FullReason}
	supported, date, err := s.serviceConfig(ctx)
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, err
	}
	next := orgsync.Cursor{Server: s.base.Redacted(), Config: s.fingerprint(), FullAt: prev.FullAt}
	if !date.IsZero() {
		next.Position = date.Add(-cursorMargin).UTC().Format(time.RFC3339)
	}
	warn := false
	if read.Reason == "" {
		read.Reason, warn = honour(prev, next, supported, date)
	}
	if read.Reason != "" {
		req.Changed() // a full read: the store may be read alongside
	}
	if read.Reason == "" {
		snap, inc, state, err := s.readSince(ctx, req)
		var stale *staleError
		switch {
		case err == nil:
			next.State = state
			s.log.Info().Str("read", inc.Reason).Int("changed", inc.Changed).Int("listed", inc.Listed).
				Dur("took", s.Now().Sub(started)).Msg("scim incremental snapshot read")
			return snap, next, inc, nil
		case errors.As(err, &stale):
			read.Reason, warn = stale.reason, true
			req.Changed()
		default:
			return orgsync.Snapshot{}, orgsync.Cursor{}, orgsync.Read{Kind: orgsync.ReadIncremental}, err
		}
	}
	if warn {
		s.log.Warn().Str("reason", read.Reason).Msg("incremental read not possible: reading in full")
	}
	users, groups, err := s.readAll(ctx)
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, err
	}
	snap, err := assemble(users, groups, s.cfg.RoleMap, s.cfg.UserFilter != "")
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, fmt.Errorf("scim: source %q: %w", s.name, err)
	}
	if warn {
		snap.Warnings = append(snap.Warnings, "read in full, not incrementally: "+read.Reason)
	}
	next.FullAt = started
	if next.State, err = encodeState(users, groups); err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, err
	}
	return snap, next, read, nil
}

// honour says why prev cannot be continued from ("" when it can), and
// whether that is a fault worth a warning.
func honour(prev, next orgsync.Cursor, supported bool, date time.Time) (string, bool) {
	switch {
	case !supported:
		return "the provider does not declare filter support (ServiceProviderConfig filter.supported)", false
	case prev.Config != next.Config:
		return "the source's config changed since the cursor was saved", false
	case prev.Server != next.Server:
		return "the cursor belongs to another provider", false
	case date.IsZero():
		return "the provider's answers carry no Date header: its clock, which the cursor is kept in, is unknown", true
	}
	p, err := time.Parse(time.RFC3339, prev.Position)
	switch {
	case err != nil:
		return fmt.Sprintf("the stored cursor %q is not a time", prev.Position), true
	case date.Add(-cursorMargin).Before(p):
		return fmt.Sprintf("the provider's clock (%s) is behind the stored cursor %s (a restored backup, or a clock set back?)",
			date.UTC().Format(time.RFC3339), prev.Position), true
	}
	return "", false
}

// serviceConfig reads ServiceProviderConfig: whether filtering is
// supported, and the provider's Date.
func (s *Source) serviceConfig(ctx context.Context) (bool, time.Time, error) {
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + "/ServiceProviderConfig"
	u.RawPath, u.RawQuery = "", ""
	body, err := s.get(ctx, &u)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("scim: source %q: %w", s.name, err)
	}
	s.mu.Lock()
	date := s.lastDate
	s.mu.Unlock()
	var cfg struct {
		Filter struct {
			Supported bool `json:"supported"`
		} `json:"filter"`
	}
	if json.Unmarshal(body, &cfg) != nil {
		return false, date, nil
	}
	return cfg.Filter.Supported, date, nil
}

// fingerprint identifies the config the state was read with: any change
// makes the next read full. It holds no secret (the token and its file are
// left out).
func (s *Source) fingerprint() string {
	c := s.cfg
	c.Token, c.TokenFile = "", ""
	b, _ := json.Marshal(struct {
		Layout int
		Config Config
	}{stateLayout, c})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

func encodeState(users []entry[user], groups []entry[scimGroup]) ([]byte, error) {
	st := savedState{Users: make([]savedUser, len(users)), Groups: make([]savedGroup, len(groups))}
	for i, e := range users {
		st.Users[i] = savedUser{ID: e.id, Skip: e.skip, Unmatched: e.unmatched, Member: e.val.member}
	}
	for i, e := range groups {
		st.Groups[i] = savedGroup{ID: e.id, Skip: e.skip, Unmatched: e.unmatched, Name: e.val.DisplayName, Members: e.val.Members, HasMembers: e.val.hasMembers}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&st); err != nil {
		return nil, fmt.Errorf("scim: encode the state: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeState(b []byte) ([]entry[user], []entry[scimGroup], error) {
	var st savedState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return nil, nil, &staleError{fmt.Sprintf("the stored state does not decode: %v", err)}
	}
	users := make([]entry[user], len(st.Users))
	for i, u := range st.Users {
		users[i] = entry[user]{id: u.ID, skip: u.Skip, unmatched: u.Unmatched, val: user{remoteID: u.ID, member: u.Member}}
	}
	groups := make([]entry[scimGroup], len(st.Groups))
	for i, g := range st.Groups {
		groups[i] = entry[scimGroup]{id: g.ID, skip: g.Skip, unmatched: g.Unmatched,
			val: scimGroup{ID: g.ID, DisplayName: g.Name, Members: g.Members, hasMembers: g.HasMembers}}
	}
	return users, groups, nil
}
