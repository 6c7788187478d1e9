package ldap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

var _ reconciler.Incremental = (*Source)(nil)

// maxFetched bounds the entries an incremental read fetches one by one
// (in scope now, unchanged since the cursor, not in the stored state: a
// filter on memberOf, whose changes do not touch the entry); past it the
// read is full.
const maxFetched = 500

// staleError: the stored state and what the server shows disagree in a
// way that only a full read resolves. The incremental read is dropped.
type staleError struct {
	reason string
	quiet  bool // not a fault (a new state layout): no warning
}

func (e *staleError) Error() string { return e.reason }

// SnapshotFrom reads the Snapshot incrementally from prev when it can, in
// full otherwise (see the package doc, "Incremental reads").
func (s *Source) SnapshotFrom(ctx context.Context, req reconciler.ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	start := time.Now()
	now := s.now()
	prev := req.Prev
	read := orgsync.Read{Kind: orgsync.ReadFull, Reason: req.FullReason}
	if prev.StateHeld {
		// The store left out the State this source said it holds.
		if b, ok := s.heldBytes(); ok {
			prev.State = b
		} else if read.Reason == "" {
			read.Reason = "the state this source held is gone"
			s.log.Warn().Str("reason", read.Reason).Msg("incremental read not possible: reading in full")
		}
	}
	c, url, err := s.connect(ctx)
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, s.wrap(err)
	}
	defer c.Close()
	r := newReader(s, c)
	r.url, r.part = url, req.Part
	r.phases.start(start)
	r.phases.mark("connect")
	defer func() { r.closeSync() }() // r may be replaced below
	pos, err := r.readPosition(ctx, url)
	r.phases.mark("position")
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, s.wrap(err)
	}
	next := orgsync.Cursor{Position: pos.pos, Server: pos.server, Config: s.fingerprint(), FullAt: prev.FullAt}
	warn := false
	if read.Reason == "" {
		read.Reason, warn = pos.honour(position{pos: prev.Position, server: prev.Server, attr: pos.attr}, next.Config, prev.Config, now)
	}
	prevSync, _ := decodeSync(prev.State)
	if read.Reason == "" && req.SkipUnchanged && pos.pos == prev.Position && !prevSync.static && (prev.Until.IsZero() || now.Before(prev.Until)) {
		// Every write (a delete too) moves the position, and no account
		// of the state expires before Until: the Snapshot is the cursor's.
		next.State, next.Until = nil, prev.Until
		s.log.Info().Dur("took", time.Since(start)).Msg("ldap source unchanged since the cursor")
		return orgsync.Snapshot{}, next, orgsync.Read{Kind: orgsync.ReadIncremental, Reason: "nothing changed since the cursor", Unchanged: true}, nil
	}
	req.Changed() // a Snapshot will be returned: the store may be read alongside
	if read.Reason == "" {
		snap, inc, state, err := r.readSince(ctx, prev, pos)
		var stale *staleError
		switch {
		case err == nil:
			next.State, next.Until = state, r.until()
			if state == nil {
				next.Until = prev.Until
			} else {
				next.StatePatch = r.statePatch
			}
			users := len(snap.Members)
			if inc.Rest != nil {
				users, _ = inc.Rest.Counts()
			}
			s.log.Info().Str("read", inc.Reason).Int("changed", inc.Changed).Int("listed", inc.Listed).
				Int("users", users).Int("groups", len(snap.Groups)).Dur("took", time.Since(start)).
				Dict("phases", r.phases.dict()).Int("digests_kept", r.kept).Bool("state_kept", r.keptState).Bool("groups_kept", r.groupsKept).Msg("ldap incremental snapshot read")
			return snap, next, inc, nil
		case errors.As(err, &stale):
			read.Reason, warn = stale.reason, !stale.quiet
			r.closeSync()
			r = newReader(s, c)
			r.url = url
		default:
			return orgsync.Snapshot{}, orgsync.Cursor{}, orgsync.Read{Kind: orgsync.ReadIncremental}, s.wrap(err)
		}
	}
	if warn {
		s.log.Warn().Str("reason", read.Reason).Msg("incremental read not possible: reading in full")
	}
	ss, err := r.prime(ctx)
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, s.wrap(err)
	}
	snap, err := r.read(ctx)
	if err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, s.wrap(err)
	}
	if warn {
		snap.Warnings = append(snap.Warnings, "read in full, not incrementally: "+read.Reason)
	}
	next.FullAt, next.Until = now, r.until()
	var kept *decodedState
	if next.State, _, kept, err = encodeStatePatch(r.users, r.groups, ss, r.byDN, nil, s.keep); err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, s.wrap(err)
	}
	s.putDecoded(kept, r.snapGroups, r.dups)
	s.log.Info().Str("reason", read.Reason).Int("users", len(snap.Members)).Int("groups", len(snap.Groups)).
		Dur("took", time.Since(start)).Msg("ldap full snapshot read")
	return snap, next, read, nil
}

func (r *reader) closeSync() {
	if r.sync != nil {
		r.sync.Close()
		r.sync = nil
	}
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// until is when the first account of what was read expires (AD's
// accountExpires still in the future); zero when none does.
func (r *reader) until() time.Time {
	var first time.Time
	for i := range r.users {
		if e := r.users[i].expires; e != "" {
			if t, ok, err := fileTime(e); err == nil && ok && t.After(r.now) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
	}
	return first
}

// listed is one entry of a keys-only listing.
type listed struct {
	dn, id string
}

// readSince rebuilds the Snapshot from prev's state and what changed at
// the server since prev.Position. state is nil when nothing changed (the
// stored state stays).
func (r *reader) readSince(ctx context.Context, prev orgsync.Cursor, pos position) (orgsync.Snapshot, orgsync.Read, []byte, error) {
	read := orgsync.Read{Kind: orgsync.ReadIncremental}
	prevSync, err := decodeSync(prev.State)
	if err != nil {
		var le *layoutError
		return orgsync.Snapshot{}, read, nil, &staleError{reason: err.Error(), quiet: errors.As(err, &le)}
	}
	// The stored state decodes while the server answers the searches.
	load := r.loadState(prev.State)
	if pos.pos == prev.Position && !prevSync.static {
		// Every write (a delete too) moves the position: nothing changed.
		oldUsers, oldGroups, err := load()
		if err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
		r.users, r.groups = oldUsers, oldGroups
		snap, err := r.snapshot()
		read.Reason = "nothing changed since the cursor"
		return snap, read, nil, err
	}
	listWhy := ""
	if r.cfg.Flavor == FlavorAD {
		oldUsers, oldGroups, err := load()
		if err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
		snap, inc, state, why, err := r.adSince(ctx, prev, oldUsers, oldGroups)
		if why == "" {
			return snap, inc, state, err
		}
		r.s.log.Warn().Str("reason", why).Msg("AD deleted objects not usable: listing every key for the deletion check")
		listWhy = "; keys listed, not AD deleted objects: " + why
	}
	since := fmt.Sprintf("(%s>=%s)", pos.attr, goldap.EscapeFilter(prev.Position))

	// The deletion check: a sync refresh from the stored cookies when
	// it can be trusted, the keys-only listing otherwise.
	why, warn := r.syncUnusable()
	if why == "" {
		why, warn = prevSync.off, prevSync.off != ""
	}
	var nextSync syncState
	if why == "" {
		// The sync refresh (on a connection of its own) runs while the
		// changed entries are searched for on this one.
		refresh := r.startRefresh(ctx, prevSync)
		snap, inc, state, err := r.readSynced(ctx, since, load, refresh.wait, prev.Until)
		if !refresh.done {
			// readSynced failed before it needed the refresh: its error
			// stands, the refresh is cancelled.
			refresh.stop()
			return snap, inc, state, err
		}
		_, _, _, rerr := refresh.wait()
		var refused *refreshRefused
		var unusable *syncUnusableError
		switch {
		case errors.As(rerr, &refused):
			why, warn = refused.reason, true
		case rerr != nil:
			return orgsync.Snapshot{}, read, nil, rerr
		case errors.As(err, &unusable):
			why, warn = unusable.reason, true
		default:
			return snap, inc, state, err
		}
	}
	oldUsers, oldGroups, err := load()
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	if warn {
		r.s.log.Warn().Str("reason", why).Msg("deletions found by the keys-only listing, not by a sync refresh")
		r.warn("deletions found by the keys-only listing, not by a sync refresh: %s", why)
	}
	// Cookies for the next read, taken before the listing.
	if nextSync, err = r.prime(ctx); err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	if err := r.readDisabled(ctx); err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	u := r.cfg.User
	userKeys, err := r.listKeys(ctx, search{key: "user.base_dn", base: u.BaseDN, filter: u.Filter, attrs: []string{u.IDAttribute}}, r.guidUser)
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	if len(userKeys) > 0 {
		if err := r.probe(ctx, userKeys[0].dn, pos.attr); err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
	}
	changedUsers, err := r.collectUsers(ctx, search{key: "user.base_dn", base: u.BaseDN, filter: "(&" + u.Filter + since + ")", attrs: r.userAttrs.request()})
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	read.Listed, read.Changed = len(userKeys), len(changedUsers)
	users, fetched, err := r.mergeUsers(ctx, userKeys, changedUsers, oldUsers)
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	var groups []group
	regrouped := false
	if g := r.cfg.Group; g.BaseDN != "" {
		groupKeys, err := r.listKeys(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: g.Filter, attrs: []string{g.IDAttribute}}, r.guidGroup)
		if err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
		read.Listed += len(groupKeys)
		if moved(userDNs(oldUsers), userKeys) || moved(groupDNs(oldGroups), groupKeys) {
			// An entry was deleted, renamed or re-created: the server's
			// referential integrity rewrites the member values naming it
			// without the groups showing a change. Read them all again.
			regrouped = true
			if groups, err = r.collectGroups(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: g.Filter, attrs: r.groupAttrs.request()}); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
			read.Changed += len(groups)
		} else {
			changedGroups, err := r.collectGroups(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: "(&" + g.Filter + since + ")", attrs: r.groupAttrs.request()})
			if err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
			read.Changed += len(changedGroups)
			byDN := make(map[string]group, len(changedGroups))
			for _, g := range changedGroups {
				byDN[g.dn] = g
			}
			var n int
			if groups, n, err = r.mergeGroups(ctx, groupKeys, byDN, oldGroups); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
			fetched += n
		}
	}
	read.Changed += fetched
	read.Reason = fmt.Sprintf("%d entries changed since the cursor; %d keys listed for deletions (%s)", read.Changed, read.Listed, why)
	if regrouped {
		read.Reason += "; all groups read again (entries were deleted or renamed)"
	}
	read.Reason += listWhy
	return r.finish(read, users, groups, nextSync, prev.Until)
}

// readSynced is readSince with the deletions named by sync refreshes
// (refresh waits for them): the changed entries come from the entryCSN
// searches, and a stored entry is kept unless one of them replaces it or
// the refresh names it gone. load returns the stored state, decoded meanwhile; a
// stored entry without a key fails it with a *syncUnusableError (the
// listing must find the deletions).
func (r *reader) readSynced(ctx context.Context, since string, load func() ([]user, []group, error), refresh refreshWait, until time.Time) (orgsync.Snapshot, orgsync.Read, []byte, error) {
	read := orgsync.Read{Kind: orgsync.ReadIncremental}
	u := r.cfg.User
	if u.DisabledFilter != "" {
		// Only a changed entry can have changed its verdict (the filter
		// does not use memberOf): the stored ones keep theirs.
		if err := r.readDisabledSince(ctx, since); err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
	}
	changedUsers, err := r.collectUserList(ctx, search{key: "user.base_dn", base: u.BaseDN, filter: "(&" + u.Filter + since + ")", attrs: r.userAttrs.request()})
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	if k := keyless(changedUsers, nil); k != "" {
		return orgsync.Snapshot{}, read, nil, &staleError{reason: k + ": a sync refresh cannot tell it apart"}
	}
	var changedGroups []group
	g := r.cfg.Group
	if g.BaseDN != "" {
		if changedGroups, err = r.collectGroups(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: "(&" + g.Filter + since + ")", attrs: r.groupAttrs.request()}); err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
		if k := keyless(nil, changedGroups); k != "" {
			return orgsync.Snapshot{}, read, nil, &staleError{reason: k + ": a sync refresh cannot tell it apart"}
		}
	}
	r.phases.mark("searches")
	du, dg, next, err := refresh()
	r.phases.mark("sync_refresh_wait")
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	oldUsers, oldGroups, err := load()
	r.phases.mark("state_decode_wait")
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	if k := keyless(oldUsers, oldGroups); k != "" {
		return orgsync.Snapshot{}, read, nil, &syncUnusableError{reason: k}
	}
	// A filter on an entryCSN the bind user cannot read matches nothing:
	// probe a stored user that neither changed nor went.
	changedIDs := make(map[string]bool, len(changedUsers))
	for i := range changedUsers {
		changedIDs[changedUsers[i].id] = true
	}
	for i := range oldUsers {
		if o := &oldUsers[i]; !du.gone(o.id) && !changedIDs[o.id] {
			if err := r.probe(ctx, o.dn, "entryCSN"); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
			break
		}
	}
	r.phases.mark("probe")
	users, droppedUsers, renamedUsers := mergeSynced(oldUsers, changedUsers, func(u *user) string { return u.id }, func(u *user) string { return u.dn }, du)
	read.Changed = len(changedUsers)
	gone := droppedUsers
	var groups []group
	regrouped := false
	if g.BaseDN != "" {
		read.Changed += len(changedGroups)
		var droppedGroups int
		var renamedGroups bool
		groups, droppedGroups, renamedGroups = mergeSynced(oldGroups, changedGroups, func(g *group) string { return g.id }, func(g *group) string { return g.dn }, dg)
		gone += droppedGroups
		if droppedUsers > 0 || renamedUsers || droppedGroups > 0 || renamedGroups {
			// An entry was deleted or renamed: referential integrity
			// rewrites the member values naming it without the groups
			// showing a change. Read them all again.
			regrouped = true
			if groups, err = r.collectGroups(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: g.Filter, attrs: r.groupAttrs.request()}); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
			if k := keyless(nil, groups); k != "" {
				return orgsync.Snapshot{}, read, nil, &staleError{reason: k + ": a sync refresh cannot tell it apart"}
			}
			read.Changed += len(groups)
		}
	}
	phase := "session log: deleted entries named"
	if du.present || (dg != nil && dg.present) {
		phase = "present phase: entries still there named"
	}
	r.phases.mark("merge")
	read.Reason = fmt.Sprintf("%d entries changed since the cursor; deletions by sync refresh (%s), %d entries gone", read.Changed, phase, gone)
	if regrouped {
		read.Reason += "; all groups read again (entries were deleted or renamed)"
	}
	return r.finish(read, users, groups, next, until)
}

// syncUnusableError: the deletions cannot be found by the sync refresh
// after all (a stored entry has no key); the listing finds them.
type syncUnusableError struct{ reason string }

func (e *syncUnusableError) Error() string { return e.reason }

// loadState starts decoding the stored state b and returns what waits
// for it: the users and groups (the same on every call), r.stored set
// from them, or the decoding's failure as a *staleError.
func (r *reader) loadState(b []byte) func() ([]user, []group, error) {
	type decoded struct {
		users  []user
		groups []group
		err    error
	}
	ch := make(chan decoded, 1)
	if d, ok := r.s.takeDecoded(b); ok {
		ch <- decoded{d.users, d.groups, nil} // kept from the read that wrote b
		r.keptState, r.keptByDN, r.keptGroups, r.keptDups = true, d.byDN, d.snap, d.dups
	} else {
		go func() {
			us, gs, _, err := decodeState(b)
			ch <- decoded{us, gs, err}
		}()
	}
	var d decoded
	done := false
	return func() ([]user, []group, error) {
		if !done {
			d, done = <-ch, true
			if d.err != nil {
				var le *layoutError
				d.err = &staleError{reason: d.err.Error(), quiet: errors.As(d.err, &le)}
			} else {
				r.stored = newStateBase(b, d.users, d.groups)
			}
		}
		return d.users, d.groups, d.err
	}
}

// finish computes the Snapshot of the merged state, its scope against
// the stored state's (r.stored), and the state to store.
//
// Asked for a part (r.part), it builds the members only to take their
// digests: the Snapshot it returns has none, and read.Rest builds them
// when asked; unless the scope cannot be named, when they are built after
// all.
func (r *reader) finish(read orgsync.Read, users []user, groups []group, ss syncState, until time.Time) (orgsync.Snapshot, orgsync.Read, []byte, error) {
	r.users, r.groups = users, groups
	r.partial = r.part
	r.reuse = r.partial && r.storedDigestsHold()
	snap, err := r.snapshot()
	r.phases.mark("snapshot")
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	read.Scope = changedScope(r.stored, r.users, r.groups, until, r.now)
	if r.partial {
		if read.Scope == nil {
			if snap.Members, _, _, err = r.members(r.inScope, r.roleOf, true); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
		} else {
			read.Rest = r.newRest(snap)
		}
	}
	r.phases.mark("scope")
	state, patch, kept, err := encodeStatePatch(r.users, r.groups, ss, r.byDN, r.stored, r.s.keep)
	r.phases.mark("state_encode")
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	r.statePatch = patch
	r.s.putDecoded(kept, r.snapGroups, r.dups)
	return snap, read, state, nil
}

// readDisabledSince collects the DNs of the users changed since the
// cursor that match disabled_filter.
func (r *reader) readDisabledSince(ctx context.Context, since string) error {
	u := r.cfg.User
	r.disabled = map[string]struct{}{}
	s := search{key: "user.base_dn", base: u.BaseDN, filter: "(&" + u.Filter + u.DisabledFilter + since + ")", attrs: []string{"1.1"}}
	return r.paged(ctx, s, func(e *wire.Entry) error {
		r.scratch = appendNormDN(r.scratch[:0], e.DN)
		r.disabled[string(r.scratch)] = struct{}{}
		return nil
	}, nil)
}

func byUserDN(us []user) map[string]user {
	out := make(map[string]user, len(us))
	for _, u := range us {
		out[u.dn] = u
	}
	return out
}

// listKeys lists the DN and key of every entry s finds, nothing else: the
// deletion check.
func (r *reader) listKeys(ctx context.Context, s search, guid bool) ([]listed, error) {
	var out []listed
	err := r.paged(ctx, s, func(e *wire.Entry) error {
		r.scratch = appendNormDN(r.scratch[:0], e.DN)
		l := listed{dn: string(r.scratch)}
		for _, a := range e.Attrs {
			if len(a.Values) > 0 && strings.EqualFold(string(a.Name), s.attrs[0]) {
				l.id = keyOf(a.Values[0], guid)
			}
		}
		out = append(out, l)
		return nil
	}, nil)
	return out, err
}

// keyOf is the key an entry's id value reads as ("" when unusable: the
// entry is then held, and compared as such).
func keyOf(v []byte, guid bool) string {
	if guid {
		id, err := guidString(v)
		if err != nil {
			return ""
		}
		return id
	}
	if len(bytes.TrimSpace(v)) == 0 {
		return ""
	}
	return string(v)
}

// probe checks that the bind user can read attr on the entry dn: a
// filter on an attribute it cannot read matches nothing, which would read
// as "nothing changed".
func (r *reader) probe(ctx context.Context, dn, attr string) error {
	e, err := r.base(ctx, dn, []string{attr})
	if err != nil {
		return err
	}
	if len(e[strings.ToLower(attr)]) == 0 {
		return &staleError{reason: fmt.Sprintf("the bind user cannot read %s of %q: changes cannot be told apart", attr, dn)}
	}
	return nil
}

// collectUserList runs s and returns the users it found, in the server's
// order.
func (r *reader) collectUserList(ctx context.Context, s search) ([]user, error) {
	saved := r.users
	r.users = nil
	defer func() { r.users = saved }()
	if err := r.paged(ctx, s, r.addUser, nil); err != nil {
		return nil, err
	}
	return r.users, nil
}

// collectUsers runs s and returns the users it found, by DN.
func (r *reader) collectUsers(ctx context.Context, s search) (map[string]user, error) {
	us, err := r.collectUserList(ctx, s)
	return byUserDN(us), err
}

// collectGroups runs s, completes ranged member lists, and returns the
// groups it found, in the server's order.
func (r *reader) collectGroups(ctx context.Context, s search) ([]group, error) {
	saved := r.groups
	r.groups, r.pending = nil, nil
	defer func() { r.groups, r.pending = saved, nil }()
	if err := r.paged(ctx, s, r.addGroup, nil); err != nil {
		return nil, err
	}
	if err := r.readRanges(ctx); err != nil {
		return nil, err
	}
	return r.groups, nil
}

// phases times the steps of a read, each from the end of the one before:
// an incremental read logs them (its "phases"), for operators asking
// where a run's time went.
type phases struct {
	last  time.Time
	names []string
	took  []time.Duration
}

func (p *phases) start(t time.Time) { p.last = t }

// mark ends the step name (a name marked again adds up).
func (p *phases) mark(name string) {
	if p.last.IsZero() {
		return
	}
	now := time.Now()
	d := now.Sub(p.last)
	p.last = now
	for i, n := range p.names {
		if n == name {
			p.took[i] += d
			return
		}
	}
	p.names, p.took = append(p.names, name), append(p.took, d)
}

func (p *phases) dict() *zerolog.Event {
	e := zerolog.Dict()
	for i, n := range p.names {
		e = e.Dur(n, p.took[i])
	}
	return e
}

// refreshWait waits for the sync refreshes startRefresh began and
// returns what they found (the same on every call).
type refreshWait func() (users, groups *refreshed, next syncState, err error)

// pendingRefresh is the sync refresh startRefresh began.
type pendingRefresh struct {
	cancel context.CancelFunc
	ch     chan refreshResult
	res    refreshResult
	done   bool
}

type refreshResult struct {
	users, groups *refreshed
	next          syncState
	err           error
}

// startRefresh runs refreshAll on the sync connection while the caller
// searches on the reader's own. The caller must stop it before it
// returns, whatever happened.
func (r *reader) startRefresh(ctx context.Context, prev syncState) *pendingRefresh {
	ctx, cancel := context.WithCancel(ctx)
	p := &pendingRefresh{cancel: cancel, ch: make(chan refreshResult, 1)}
	go func() {
		var res refreshResult
		res.users, res.groups, res.next, res.err = r.refreshAll(ctx, prev)
		p.ch <- res
	}()
	return p
}

// wait waits for the refresh and returns what it found.
func (p *pendingRefresh) wait() (*refreshed, *refreshed, syncState, error) {
	if !p.done {
		p.res, p.done = <-p.ch, true
		p.cancel()
	}
	return p.res.users, p.res.groups, p.res.next, p.res.err
}

// stop cancels the refresh unless it was waited for, and waits for it to
// end.
func (p *pendingRefresh) stop() {
	if !p.done {
		p.cancel()
	}
	p.wait()
}
