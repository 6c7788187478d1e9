package ldap

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/orgsync/orgsync/internal/statepatch"
)

// stateVersion is the layout of the encoded state. A state of another
// layout does not decode: the read is then full, once (layout 2 kept
// neither the enterprise attributes nor the sync cookies).
const stateVersion = 3

// configVersion goes into the config fingerprint; a new state layout
// alone does not change it (decodeState says so instead).
const configVersion = 2

// The state is the desired state at a cursor, as the entries were read:
// users and groups in server order, member values unresolved. It is what an
// incremental read merges the changed entries into; the Snapshot is then
// computed from it exactly as from a full read.
//
// Encoding (all numbers uvarints): the version; the sync section (the
// user and the group sync cookies and why deletions are not found by a
// sync refresh, each a length and its bytes; then 1 when static); the user count, then per
// user its flags, ten strings, four more when it has enterprise
// attributes, and its digest (8 bytes); the group count, then per group
// four strings, its digest, the value count and the values. A string is
// coded against the same field of the previous entry: the length of the
// prefix and of the suffix they share, then the bytes in between
// (directories are regular, so most of a DN or an address is shared). A
// member value that is the DN of a user is that user's index instead
// (odd: index*2+1); any other value is its length*2 and its bytes. About
// 30 bytes a user for a generated directory; no compression pass.
//
// A digest is that of the entry's part of the Snapshot computed with the
// state (see scope.go): an incremental read compares them with the new
// Snapshot's to name its scope without computing the old Snapshot again.

const (
	flagFilterOff = 1 << iota
	flagUACOff
	flagExtra
)

const userFields = 14

// syncState is what the deletion check by sync refresh keeps between
// reads.
type syncState struct {
	users, groups []byte // the cookies; nil when none
	// off says why deletions are found by the keys-only listing ("" when
	// the cookies are used).
	off string
	// static: the server refused the sync control itself (no syncprov
	// on the database), so its contextCSN need not move with a change
	// (slapadd -w writes one that stays): an unchanged position does not
	// mean that nothing changed.
	static bool
}

type stateWriter struct {
	buf   []byte
	prev  [userFields]string
	spans []statepatch.Span // where buf copies the base (encodeStatePatch)
	// track: note where each record went (at, end; a group's digest and
	// value indexes), for decodedState.
	track           bool
	uAt, uEnd       []int32
	gAt, gDig, gEnd []int32
	gIdx            [][]int32
}

// copyBase appends base[from:to] and notes the copy: as part of the last
// one when the bytes written since are those that follow it in base too
// (a digest written again), so that the unchanged records of a state make
// a few long copies rather than one each.
func (w *stateWriter) copyBase(base []byte, from, to int32) {
	dst, src, n := len(w.buf), int(from), int(to-from)
	if k := len(w.spans) - 1; k >= 0 {
		last := &w.spans[k]
		gap := dst - (last.Dst + last.N)
		if end := last.Src + last.N; gap >= 0 && src-end == gap && bytes.Equal(w.buf[dst-gap:], base[end:src]) {
			last.N += gap + n
			w.buf = append(w.buf, base[from:to]...)
			return
		}
	}
	w.spans = append(w.spans, statepatch.Span{Dst: dst, Src: src, N: n})
	w.buf = append(w.buf, base[from:to]...)
}

func (w *stateWriter) num(v int) { w.buf = binary.AppendUvarint(w.buf, uint64(v)) }

func (w *stateWriter) raw(v []byte) {
	w.num(len(v))
	w.buf = append(w.buf, v...)
}

func (w *stateWriter) digest(d uint64) { w.buf = binary.LittleEndian.AppendUint64(w.buf, d) }

func (w *stateWriter) str(field int, v string) {
	prev := w.prev[field]
	p := 0
	for p < len(v) && p < len(prev) && v[p] == prev[p] {
		p++
	}
	q := 0
	for q < len(v)-p && q < len(prev)-p && v[len(v)-1-q] == prev[len(prev)-1-q] {
		q++
	}
	w.num(p)
	w.num(q)
	w.num(len(v) - p - q)
	w.buf = append(w.buf, v[p:len(v)-q]...)
	w.prev[field] = v
}

// stateBase is a stored state and what the new state is compared with
// of the entries decoded from it: encodeState copies the records of the
// entries that did not change from it instead of encoding them again,
// and changedScope compares the digests.
type stateBase struct {
	b             []byte
	users, groups []storedEntry // by index, as stored
}

// storedEntry is an entry of the stored state as far as the new state is
// compared with it: its key, DN and digest.
type storedEntry struct {
	id, dn string
	digest uint64
}

// newStateBase keeps what the new state is compared with of the users
// and groups decoded from b, so that they may be merged in place.
func newStateBase(b []byte, users []user, groups []group) *stateBase {
	base := &stateBase{b: b, users: make([]storedEntry, len(users)), groups: make([]storedEntry, len(groups))}
	for i := range users {
		base.users[i] = storedEntry{id: users[i].id, dn: users[i].dn, digest: users[i].digest}
	}
	for i := range groups {
		base.groups[i] = storedEntry{id: groups[i].id, dn: groups[i].dn, digest: groups[i].digest}
	}
	return base
}

// encodeState writes users and groups (their digests set by snapshot)
// and the sync section as the cursor's State. byDN is the users' index
// by DN (the first of a DN) when the caller has it (link's), nil to
// build it here. base, when not nil, is the stored state the entries
// with a record span were decoded from: such a record is copied when it
// would encode to the same bytes, so the output is byte for byte what
// encoding every entry gives.
func encodeState(users []user, groups []group, ss syncState, byDN map[string]int32, base *stateBase) ([]byte, error) {
	w, err := writeState(users, groups, ss, byDN, base)
	if err != nil {
		return nil, err
	}
	return w.buf, nil
}

// decodedState is a state with what decodeState makes of it, kept by a
// Source between the reads of a daemon (Source.KeepDecodedState). The
// users are the read's own, which its Snapshot's Rest may still build
// members from until its run ends: they are brought to the decoded form
// (record bounds, no derived fields) only when the next read takes them
// (decoded), not copied.
type decodedState struct {
	id        statepatch.ID
	b         []byte           // the state itself (the cursor's, when the store says so)
	byDN      map[string]int32 // the users' index by DN (link's), read only
	snap      *snapGroups      // what the read's snapshot made of the groups
	dups      *userHashes      // the key hashes of its duplicate check
	users     []user
	uAt, uEnd []int32
	groups    []group
}

// decoded brings the users and groups to what decodeState reads from the
// state, the users changed in place, and returns them.
func (d *decodedState) decoded() ([]user, []group) {
	for i := range d.users {
		u := &d.users[i]
		u.disabled = false
		u.at, u.end = d.uAt[i], d.uEnd[i]
	}
	return d.users, d.groups
}

// encodeStatePatch is encodeState, and the new state as a patch against
// base.b (nil when base is): the copied records, and the bytes of the
// others literally, a few kilobytes a thousand changed entries. With
// keep it also returns what decodeState would make of the state
// (decodedState, from the entries as written; nil without keep).
func encodeStatePatch(users []user, groups []group, ss syncState, byDN map[string]int32, base *stateBase, keep bool) (state, patch []byte, kept *decodedState, err error) {
	w := &stateWriter{track: keep}
	if err := w.write(users, groups, ss, byDN, base); err != nil {
		return nil, nil, nil, err
	}
	if base != nil {
		patch = statepatch.Build(base.b, w.buf, w.spans)
	}
	if keep {
		kept = &decodedState{id: statepatch.IDOf(w.buf), b: w.buf, byDN: byDN, users: users, uAt: w.uAt, uEnd: w.uEnd, groups: w.decodedGroups(groups)}
	}
	return w.buf, patch, kept, nil
}

// decodedGroups returns groups as decodeState reads them back from w.buf:
// the fields a record holds, the bounds w noted, none of what link
// derives.
func (w *stateWriter) decodedGroups(groups []group) []group {
	gs := make([]group, len(groups))
	for i := range groups {
		g := &groups[i]
		d := group{dn: g.dn, id: g.id, name: g.name, readHeld: g.readHeld, held: g.readHeld, digest: g.digest,
			at: w.gAt[i], dig: w.gDig[i], end: w.gEnd[i]}
		if len(g.vals) > 0 {
			d.vals, d.idx = g.vals, w.gIdx[i]
		}
		gs[i] = d
	}
	return gs
}

func writeState(users []user, groups []group, ss syncState, byDN map[string]int32, base *stateBase) (*stateWriter, error) {
	w := &stateWriter{}
	return w, w.write(users, groups, ss, byDN, base)
}

func (w *stateWriter) write(users []user, groups []group, ss syncState, byDN map[string]int32, base *stateBase) error {
	size := 40*len(users) + 64
	if base != nil && len(base.b) > size {
		size = len(base.b) + len(base.b)/8
	}
	w.buf = make([]byte, 0, size)
	if w.track {
		w.uAt, w.uEnd = make([]int32, 0, len(users)), make([]int32, 0, len(users))
		w.gAt, w.gDig, w.gEnd = make([]int32, 0, len(groups)), make([]int32, 0, len(groups)), make([]int32, 0, len(groups))
		w.gIdx = make([][]int32, 0, len(groups))
	}
	w.num(stateVersion)
	w.raw(ss.users)
	w.raw(ss.groups)
	w.raw([]byte(ss.off))
	static := 0
	if ss.static {
		static = 1
	}
	w.num(static)
	w.num(len(users))
	build := byDN == nil
	if build {
		byDN = make(map[string]int32, len(users))
	}
	// A string is coded against the same field of the user before (the
	// enterprise ones against the last user that has them), so a stored
	// record encodes to the same bytes only where the coder would stand
	// where it stood then: its stored predecessor was just written
	// unchanged (chain), and, for a user with enterprise attributes, the
	// last one with them before it is the stored one (extraOK). w.prev is
	// brought up to date only before a user is encoded (synced).
	var last, lastExtra *user
	synced, syncedExtra, extraOK := true, true, true
	lastEnd := int32(-1)
	for i := range users {
		u := &users[i]
		flags := 0
		if u.filterOff {
			flags |= flagFilterOff
		}
		if u.uacOff {
			flags |= flagUACOff
		}
		if u.extra != nil {
			flags |= flagExtra
		}
		unchanged := base != nil && u.at > 0 && int(u.end) <= len(base.b) && u.end-u.at > 8 && base.b[u.at] == byte(flags)
		chain := unchanged && u.at == lastEnd
		if w.track {
			w.uAt = append(w.uAt, int32(len(w.buf)))
		}
		if chain && (u.extra == nil || extraOK) {
			w.copyBase(base.b, u.at, u.end-8)
			synced = false
			if u.extra != nil {
				syncedExtra = false
			}
		} else {
			if !synced {
				w.prev[0], w.prev[1], w.prev[2], w.prev[3], w.prev[4] = last.dn, last.id, last.name, last.email, last.given
				w.prev[5], w.prev[6], w.prev[7], w.prev[8], w.prev[9] = last.family, last.display, last.uid, last.expires, last.held
				synced = true
			}
			w.num(flags)
			for f, v := range [10]string{u.dn, u.id, u.name, u.email, u.given, u.family, u.display, u.uid, u.expires, u.held} {
				w.str(f, v)
			}
			if e := u.extra; e != nil {
				if !syncedExtra {
					p := lastExtra.extra
					w.prev[10], w.prev[11], w.prev[12], w.prev[13] = p.title, p.employeeNumber, p.department, p.managerDN
					syncedExtra = true
				}
				for f, v := range [4]string{e.title, e.employeeNumber, e.department, e.managerDN} {
					w.str(10+f, v)
				}
			}
		}
		w.digest(u.digest)
		if w.track {
			w.uEnd = append(w.uEnd, int32(len(w.buf)))
		}
		last, lastEnd = u, -1
		if unchanged {
			lastEnd = u.end
		}
		if u.extra != nil {
			lastExtra, extraOK = u, unchanged
		} else {
			extraOK = extraOK && chain
		}
		if build {
			if _, dup := byDN[u.dn]; !dup {
				byDN[u.dn] = int32(i)
			}
		}
	}
	// A group's member values name users by index: its stored record
	// holds only while every index names the user of the same DN.
	stable := base != nil && len(users) == len(base.users)
	for i := 0; stable && i < len(users); i++ {
		stable = users[i].dn == base.users[i].dn
	}
	w.prev = [userFields]string{}
	w.num(len(groups))
	var lastGroup *group
	synced, lastEnd = true, -1
	for gi := range groups {
		g := &groups[gi]
		unchanged := stable && g.at > 0 && g.at < g.dig && g.dig+8 <= g.end && int(g.end) <= len(base.b)
		if w.track {
			w.gAt = append(w.gAt, int32(len(w.buf)))
		}
		if unchanged && g.at == lastEnd {
			w.copyBase(base.b, g.at, g.dig)
			if w.track {
				w.gDig = append(w.gDig, int32(len(w.buf)))
				w.gIdx = append(w.gIdx, g.idx) // the same bytes, the same indexes
			}
			w.digest(g.digest)
			w.copyBase(base.b, g.dig+8, g.end)
			synced = false
		} else {
			if !synced {
				w.prev[0], w.prev[1], w.prev[2], w.prev[3] = lastGroup.dn, lastGroup.id, lastGroup.name, lastGroup.readHeld
				synced = true
			}
			for f, v := range [4]string{g.dn, g.id, g.name, g.readHeld} {
				w.str(f, v)
			}
			var idx []int32
			if w.track {
				w.gDig = append(w.gDig, int32(len(w.buf)))
				if len(g.vals) > 0 {
					idx = make([]int32, len(g.vals))
				}
			}
			w.digest(g.digest)
			w.num(len(g.vals))
			for k, v := range g.vals {
				if i, ok := byDN[v]; ok {
					w.num(int(i)*2 + 1)
					if idx != nil {
						idx[k] = i
					}
					continue
				}
				w.num(len(v) * 2)
				w.buf = append(w.buf, v...)
				if idx != nil {
					idx[k] = -1
				}
			}
			if w.track {
				w.gIdx = append(w.gIdx, idx)
			}
		}
		if w.track {
			w.gEnd = append(w.gEnd, int32(len(w.buf)))
		}
		lastGroup, lastEnd = g, -1
		if unchanged {
			lastEnd = g.end
		}
	}
	return nil
}

type stateReader struct {
	b     []byte
	n     int // len of the whole state: the offset of b is n-len(b)
	err   error
	prev  [userFields]string
	arena arena
}

func (r *stateReader) off() int32 { return int32(r.n - len(r.b)) }

// arena holds the strings a decode builds, many to a chunk: one
// allocation, and nothing for the collector to scan, in place of one for
// each of a million strings. Bytes once written are never written again,
// so the strings stay immutable; a chunk lives while any of its strings
// does.
type arena struct{ buf []byte }

const arenaChunk = 256 << 10

func (a *arena) concat(x string, y []byte, z string) string {
	n := len(x) + len(y) + len(z)
	if n == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, arenaChunk))
	}
	at := len(a.buf)
	a.buf = append(a.buf, x...)
	a.buf = append(a.buf, y...)
	a.buf = append(a.buf, z...)
	return unsafe.String(&a.buf[at], n)
}

var errState = errors.New("the stored state does not decode")

// layoutError: the state was written by another layout. Not a fault:
// the read is full once, without a warning.
type layoutError struct{ got int }

func (e *layoutError) Error() string {
	return fmt.Sprintf("the stored state has layout %d, this build writes %d (which keeps the enterprise attributes and the sync cookies): read in full once", e.got, stateVersion)
}

func (r *stateReader) num() int {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b))*64+1<<20 {
		r.err = errState
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *stateReader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errState
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *stateReader) raw() []byte {
	b := r.bytes(r.num())
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (r *stateReader) digest() uint64 {
	b := r.bytes(8)
	if r.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *stateReader) str(field int) string {
	p, q, n := r.num(), r.num(), r.num()
	mid := r.bytes(n)
	prev := r.prev[field]
	if r.err != nil || p+q > len(prev) {
		r.err = errState
		return ""
	}
	var v string
	switch {
	case n == 0 && p+q == len(prev):
		v = prev
	default:
		v = r.arena.concat(prev[:p], mid, prev[len(prev)-q:])
	}
	r.prev[field] = v
	return v
}

// readHeader checks the version and reads the sync section.
func (r *stateReader) readHeader() (syncState, error) {
	if len(r.b) == 0 {
		return syncState{}, fmt.Errorf("no stored state")
	}
	switch v := r.num(); {
	case r.err != nil:
		return syncState{}, errState
	case v >= 1 && v < stateVersion:
		return syncState{}, &layoutError{got: v}
	case v != stateVersion:
		return syncState{}, fmt.Errorf("%w (layout %d, this build writes %d)", errState, v, stateVersion)
	}
	ss := syncState{users: r.raw(), groups: r.raw(), off: string(r.raw())}
	ss.static = r.num() == 1
	if r.err != nil {
		return syncState{}, errState
	}
	return ss, nil
}

// decodeSync reads only the sync section of a state.
func decodeSync(b []byte) (syncState, error) {
	r := &stateReader{b: b, n: len(b)}
	return r.readHeader()
}

// decodeState reads what encodeState wrote.
func decodeState(b []byte) ([]user, []group, syncState, error) {
	r := &stateReader{b: b, n: len(b)}
	if len(b) > math.MaxInt32 {
		return nil, nil, syncState{}, errState
	}
	ss, err := r.readHeader()
	if err != nil {
		return nil, nil, ss, err
	}
	n := r.num()
	if n > len(b) {
		return nil, nil, ss, errState
	}
	users := make([]user, n)
	for i := range users {
		u := &users[i]
		u.at = r.off()
		flags := r.num()
		u.filterOff, u.uacOff = flags&flagFilterOff != 0, flags&flagUACOff != 0
		u.dn, u.id, u.name, u.email, u.given = r.str(0), r.str(1), r.str(2), r.str(3), r.str(4)
		u.family, u.display, u.uid, u.expires, u.held = r.str(5), r.str(6), r.str(7), r.str(8), r.str(9)
		if flags&flagExtra != 0 {
			u.extra = &extra{title: r.str(10), employeeNumber: r.str(11), department: r.str(12), managerDN: r.str(13)}
		}
		u.digest = r.digest()
		u.end = r.off()
		if r.err != nil {
			return nil, nil, ss, r.err
		}
	}
	r.prev = [userFields]string{}
	ng := r.num()
	if ng > len(b) {
		return nil, nil, ss, errState
	}
	groups := make([]group, ng)
	for i := range groups {
		g := &groups[i]
		g.at = r.off()
		g.dn, g.id, g.name, g.readHeld = r.str(0), r.str(1), r.str(2), r.str(3)
		g.held = g.readHeld
		g.dig = r.off()
		g.digest = r.digest()
		nv := r.num()
		if r.err != nil || nv > len(r.b) {
			return nil, nil, ss, errState
		}
		if nv > 0 {
			g.vals, g.idx = make([]string, nv), make([]int32, nv)
		}
		for k := range g.vals {
			v := r.num()
			if v%2 == 1 {
				if v/2 >= len(users) {
					return nil, nil, ss, errState
				}
				g.vals[k], g.idx[k] = users[v/2].dn, int32(v/2)
				continue
			}
			g.vals[k], g.idx[k] = r.arena.concat("", r.bytes(v/2), ""), -1
		}
		g.end = r.off()
		if r.err != nil {
			return nil, nil, ss, r.err
		}
	}
	if len(r.b) != 0 {
		return nil, nil, ss, fmt.Errorf("%w: %d bytes left over", errState, len(r.b))
	}
	return users, groups, ss, nil
}

// fingerprint identifies the config the state was read with: any change
// to it (a filter, a mapping, a read limit) makes the next read full. It
// holds no secret (the password and its file are left out).
func (s *Source) fingerprint() string {
	c := s.cfg
	c.BindPassword, c.BindPasswordFile = "", ""
	b, _ := json.Marshal(struct {
		Version int
		Config  Config
	}{configVersion, c})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
