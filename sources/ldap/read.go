package ldap

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// user is the compact form of a user entry; every string is our own copy,
// never a view into the connection's read buffer.
type user struct {
	dn                          string // normalised
	id, name, email             string
	given, family, display, uid string
	extra                       *extra // the enterprise attributes, when any is configured and set
	disabled                    bool
	// The parts of disabled, kept apart because an incremental read
	// re-derives it: filterOff (matched disabled_filter), uacOff (AD's
	// userAccountControl) and expires (AD's raw accountExpires, which
	// passes without the entry changing).
	filterOff, uacOff bool
	expires           string
	// held says why the entry cannot be used (an attribute missing or
	// unreadable): it goes to Snapshot.HeldUsers, never just left out.
	held string
	// digest is that of what the user became in the Snapshot computed
	// with it (0: not in it, as out of require_group's reach).
	digest uint64
	// at and end bound the entry's record in the stored state it was
	// decoded from (at 0: not decoded), which encodeState may copy.
	at, end int32
}

// group is the compact form of a group entry.
type group struct {
	dn, id, name string
	// vals are the member values as read: normalised DNs, or trimmed
	// uids with memberUid. link resolves them into users and other.
	vals []string
	// idx holds, for a group decoded from the stored state, the index of
	// the user each value named there (-1: a value that named none); link
	// takes it instead of looking the DN up while the users are the
	// stored ones (usersAsStored).
	idx      []int32
	users    []int32  // direct members that are users (indexes into reader.users)
	other    []string // normalised member DNs that are not users: maybe groups
	subs     []int32  // resolved member groups
	readHeld string   // why the entry itself cannot be used
	held     string   // readHeld or what link found: Snapshot.HeldGroups
	digest   uint64   // of its part of the Snapshot, like user.digest
	// at, dig and end bound the entry's record in the stored state it was
	// decoded from, and its digest there (at 0: not decoded).
	at, dig, end int32
}

// pendingRange is a group whose member attribute came back ranged and not
// yet whole (AD's member;range=0-1499).
type pendingRange struct {
	group int32
	dn    string // as the server wrote it, for the base search
	next  int
}

// User attribute slots.
const (
	uID = iota
	uName
	uEmail
	uGiven
	uFamily
	uDisplay
	uUID
	uTitle
	uEmployeeNumber
	uDepartment
	uManager
	uUAC
	uExpires
	uSlots
)

// Group attribute slots.
const (
	gID = iota
	gName
	gMember
)

// reader holds the state of one Snapshot read.
type reader struct {
	s   *Source
	c   conn
	cfg *Config
	now time.Time

	userAttrs, groupAttrs *attrMap
	uidStyle, uniqueStyle bool
	guidUser, guidGroup   bool

	disabled map[string]struct{}
	users    []user
	// part: the request asked for a part (reconciler.ReadRequest.Part), so
	// an incremental read that names its scope builds the members only
	// when asked (rest). partial: snapshot builds digests, not members;
	// inScope, roleOf and disabledCount are its, for rest.
	part, partial bool
	inScope       []bool
	roleOf        map[int32]string
	disabledCount int
	// stored is the state an incremental read started from (nil on
	// a full read): the new state copies its unchanged records.
	stored *stateBase
	// reuse: the digests the users decoded from stored carry still hold
	// for those whose record did not change (storedDigestsHold), so a
	// partial snapshot does not build their members again.
	reuse bool
	kept  int // the users whose stored digest was kept (logged)
	// keptState: the stored state's decoded form was the one the source
	// kept (KeepDecodedState), not decoded again (logged).
	keptState bool
	// keptByDN is the users' index by DN of the read that wrote the kept
	// state: link takes it as it is while the users are those of that
	// state, in its order (usersAsStored).
	keptByDN map[string]int32
	// keptGroups is what the snapshot of the read that wrote the kept
	// state made of the groups (snapshot takes it while nothing it
	// depends on changed); snapGroups is this read's, to keep with its
	// state; groupsKept says snapshot took keptGroups (logged).
	keptGroups, snapGroups *snapGroups
	groupsKept             bool
	// keptDups are the kept read's key hashes of its duplicate check,
	// dups this read's (see warnDuplicateUsers); asStored is what
	// usersAsStored said when link ran.
	keptDups, dups *userHashes
	asStored       bool
	// statePatch is the state finish encoded as a patch against stored.
	statePatch []byte
	byDN       map[string]int32
	byUID      map[string]int32
	groups     []group
	pending    []pendingRange
	warnings   []string
	scratch    []byte

	phases phases    // where an incremental read's time went, for its log line
	url    string    // the server c reads from
	sync   refresher // the sync refresh connection, once opened
	digest digest    // the Snapshot digests' buffer
}

func newReader(s *Source, c conn) *reader {
	cfg := &s.cfg
	u, g := &cfg.User, &cfg.Group
	ad := cfg.Flavor == FlavorAD
	uac, expires := "", ""
	if ad {
		uac, expires = "userAccountControl", "accountExpires"
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	r := &reader{
		s: s, c: c, cfg: cfg, now: now(),
		userAttrs: newAttrMap(u.IDAttribute, u.UserNameAttribute, u.EmailAttribute, u.GivenNameAttribute,
			u.FamilyNameAttribute, u.DisplayNameAttribute, u.UIDAttribute,
			u.TitleAttribute, u.EmployeeNumberAttribute, u.DepartmentAttribute, u.ManagerAttribute, uac, expires),
		groupAttrs:  newAttrMap(g.IDAttribute, g.NameAttribute, g.MemberAttribute),
		uidStyle:    strings.EqualFold(g.MemberAttribute, "memberUid"),
		uniqueStyle: strings.EqualFold(g.MemberAttribute, "uniqueMember"),
		guidUser:    strings.EqualFold(u.IDAttribute, "objectGUID"),
		guidGroup:   strings.EqualFold(g.IDAttribute, "objectGUID"),
		byDN:        map[string]int32{},
	}
	if r.uidStyle {
		r.byUID = map[string]int32{}
	}
	return r
}

func (r *reader) read(ctx context.Context) (orgsync.Snapshot, error) {
	if err := r.readDisabled(ctx); err != nil {
		return orgsync.Snapshot{}, err
	}
	if err := r.readUsers(ctx); err != nil {
		return orgsync.Snapshot{}, err
	}
	if r.cfg.Group.BaseDN != "" {
		if err := r.readGroups(ctx); err != nil {
			return orgsync.Snapshot{}, err
		}
		if err := r.readRanges(ctx); err != nil {
			return orgsync.Snapshot{}, err
		}
	}
	return r.snapshot()
}

func (r *reader) report() {
	if r.s.progress != nil {
		r.s.progress(orgsync.Progress{Users: len(r.users), Groups: len(r.groups)})
	}
}

func (r *reader) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// readDisabled collects the DNs of the users matching disabled_filter.
func (r *reader) readDisabled(ctx context.Context) error {
	u := r.cfg.User
	if u.DisabledFilter == "" {
		return nil
	}
	r.disabled = map[string]struct{}{}
	s := search{key: "user.base_dn", base: u.BaseDN, filter: "(&" + u.Filter + u.DisabledFilter + ")", attrs: []string{"1.1"}}
	return r.paged(ctx, s, func(e *wire.Entry) error {
		r.scratch = appendNormDN(r.scratch[:0], e.DN)
		r.disabled[string(r.scratch)] = struct{}{}
		return nil
	}, nil)
}

func (r *reader) readUsers(ctx context.Context) error {
	u := r.cfg.User
	s := search{key: "user.base_dn", base: u.BaseDN, filter: u.Filter, attrs: r.userAttrs.request()}
	return r.paged(ctx, s, r.addUser, r.report)
}

func (r *reader) addUser(e *wire.Entry) error {
	var v [uSlots][]byte
	for i := range e.Attrs {
		a := &e.Attrs[i]
		m := r.userAttrs.mask(a.Name)
		if m == 0 || len(a.Values) == 0 {
			continue
		}
		for slot := 0; slot < uSlots; slot++ {
			if m&(1<<slot) != 0 {
				v[slot] = a.Values[0]
			}
		}
	}
	r.scratch = appendNormDN(r.scratch[:0], e.DN)
	usr := user{
		dn:      string(r.scratch),
		name:    string(bytes.TrimSpace(v[uName])),
		email:   string(bytes.TrimSpace(v[uEmail])),
		given:   string(v[uGiven]),
		family:  string(v[uFamily]),
		display: string(v[uDisplay]),
		uid:     string(v[uUID]),
	}
	if v[uTitle] != nil || v[uEmployeeNumber] != nil || v[uDepartment] != nil || v[uManager] != nil {
		usr.extra = &extra{title: string(v[uTitle]), employeeNumber: string(v[uEmployeeNumber]), department: string(v[uDepartment])}
		if v[uManager] != nil {
			usr.extra.managerDN = string(appendNormDN(nil, v[uManager]))
		}
	}
	u := &r.cfg.User
	switch {
	case v[uID] == nil, !r.guidUser && len(bytes.TrimSpace(v[uID])) == 0:
		usr.held = fmt.Sprintf("no %s (ldap.user.id_attribute)", u.IDAttribute)
	case r.guidUser:
		id, err := guidString(v[uID])
		if err != nil {
			usr.held = fmt.Sprintf("%v (ldap.user.id_attribute)", err)
		}
		usr.id = id
	default:
		usr.id = string(v[uID])
	}
	if usr.name == "" && usr.held == "" {
		usr.held = fmt.Sprintf("no %s (ldap.user.user_name_attribute)", u.UserNameAttribute)
	}
	if _, ok := r.disabled[usr.dn]; ok {
		usr.filterOff = true
	}
	if r.cfg.Flavor == FlavorAD && usr.held == "" {
		if _, err := adDisabled(string(v[uUAC]), string(v[uExpires]), r.now); err != nil {
			usr.held = err.Error()
		}
		usr.uacOff, _ = adDisabled(string(v[uUAC]), "", r.now)
		usr.expires = string(v[uExpires])
	}
	r.users = append(r.users, usr)
	return nil
}

func (r *reader) readGroups(ctx context.Context) error {
	g := r.cfg.Group
	s := search{key: "group.base_dn", base: g.BaseDN, filter: g.Filter, attrs: r.groupAttrs.request()}
	return r.paged(ctx, s, r.addGroup, r.report)
}

func (r *reader) addGroup(e *wire.Entry) error {
	r.scratch = appendNormDN(r.scratch[:0], e.DN)
	grp := group{dn: string(r.scratch)}
	gi := int32(len(r.groups))
	var rawID []byte
	for i := range e.Attrs {
		a := &e.Attrs[i]
		m := r.groupAttrs.mask(a.Name)
		if m == 0 {
			if base, start, end, ok := parseRange(string(a.Name)); ok && strings.EqualFold(base, r.cfg.Group.MemberAttribute) {
				if start != 0 {
					return &mapError{fmt.Errorf("group %q: ranged %s starts at %d, not 0", e.DN, a.Name, start)}
				}
				r.addMembers(&grp, a.Values)
				if end >= 0 {
					r.pending = append(r.pending, pendingRange{group: gi, dn: string(e.DN), next: end + 1})
				}
			}
			continue
		}
		if len(a.Values) == 0 {
			continue
		}
		if m&(1<<gID) != 0 {
			rawID = a.Values[0]
		}
		if m&(1<<gName) != 0 {
			grp.name = string(bytes.TrimSpace(a.Values[0]))
		}
		if m&(1<<gMember) != 0 {
			r.addMembers(&grp, a.Values)
		}
	}
	g := &r.cfg.Group
	switch {
	case rawID == nil, !r.guidGroup && len(bytes.TrimSpace(rawID)) == 0:
		grp.held = fmt.Sprintf("no %s (ldap.group.id_attribute)", g.IDAttribute)
	case r.guidGroup:
		id, err := guidString(rawID)
		if err != nil {
			grp.held = fmt.Sprintf("%v (ldap.group.id_attribute)", err)
		}
		grp.id = id
	default:
		grp.id = string(rawID)
	}
	if grp.name == "" && grp.held == "" {
		grp.held = fmt.Sprintf("no %s (ldap.group.name_attribute)", g.NameAttribute)
	}
	grp.readHeld = grp.held
	r.groups = append(r.groups, grp)
	return nil
}

// addMembers keeps member values in their comparison form.
func (r *reader) addMembers(g *group, values [][]byte) {
	for _, v := range values {
		if r.uidStyle {
			g.vals = append(g.vals, string(bytes.TrimSpace(v)))
			continue
		}
		if r.uniqueStyle {
			v = stripUID(v)
		}
		r.scratch = appendNormDN(r.scratch[:0], v)
		g.vals = append(g.vals, string(r.scratch))
	}
}

// readRanges fetches the rest of every ranged member attribute with base
// searches for member;range=N-* until the server says the range ends (*).
func (r *reader) readRanges(ctx context.Context) error {
	attr := r.cfg.Group.MemberAttribute
	for _, p := range r.pending {
		g := &r.groups[p.group]
		values := 0 // ranged values of this group, bounded like a search's entries
		for next := p.next; next >= 0; {
			want := fmt.Sprintf("%s;range=%d-*", attr, next)
			req := wire.SearchRequest{Base: p.dn, Scope: goldap.ScopeBaseObject, Filter: "(objectClass=*)",
				Attrs: []string{want}, TimeLimit: int(r.cfg.SearchTimeout.TimeDuration().Seconds())}
			got := false
			pctx, cancel := context.WithTimeout(ctx, r.cfg.SearchTimeout.TimeDuration())
			_, err := r.c.Search(pctx, req, func(e *wire.Entry) error {
				for _, a := range e.Attrs {
					base, start, end, ok := parseRange(string(a.Name))
					if !ok || !strings.EqualFold(base, attr) || got {
						continue
					}
					if start != next {
						return &mapError{fmt.Errorf("group %q: asked for %s, got %s", p.dn, want, a.Name)}
					}
					got = true
					if values += len(a.Values); values > r.cfg.MaxEntries {
						return &mapError{fmt.Errorf("group %q: more than %d ranged %s values, over ldap.max_entries: %w",
							p.dn, r.cfg.MaxEntries, attr, errTooLarge)}
					}
					r.addMembers(g, a.Values)
					next = -1
					if end >= 0 {
						next = end + 1
					}
				}
				return nil
			})
			cancel()
			if err != nil {
				return &ldapError{op: fmt.Sprintf("read %s of group %q", want, p.dn), err: err,
					hint: "the group's members cannot be read whole; nothing was synced"}
			}
			if !got {
				return &ldapError{op: fmt.Sprintf("read %s of group %q", want, p.dn),
					err:  fmt.Errorf("the server returned no %s;range=%d-… values", attr, next),
					hint: "the ranged member list is truncated; nothing was synced"}
			}
		}
	}
	return nil
}
