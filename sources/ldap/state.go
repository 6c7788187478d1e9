package ldap

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// stateVersion is the layout of the encoded state; a cursor saved with
// another layout is not honoured (its config fingerprint differs).
const stateVersion = 2

// The state is the desired state at a cursor, as the entries were read:
// users and groups in server order, member values unresolved. It is what an
// incremental read merges the changed entries into; the Snapshot is then
// computed from it exactly as from a full read.
//
// Encoding (all numbers uvarints): the version; the user count, then per
// user its flags and ten strings; the group count, then per group four
// strings, the value count and the values. A string is coded against the
// same field of the previous entry: the length of the prefix and of the
// suffix they share, then the bytes in between (directories are regular,
// so most of a DN or an address is shared). A member value that is the DN
// of a user is that user's index instead (odd: index*2+1); any other value
// is its length*2 and its bytes. About 20 bytes a user for a generated
// directory; no compression pass.

const (
	flagFilterOff = 1 << iota
	flagUACOff
)

type stateWriter struct {
	buf  []byte
	prev [10]string
}

func (w *stateWriter) num(v int) { w.buf = binary.AppendUvarint(w.buf, uint64(v)) }

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

// encodeState writes users and groups as the cursor's State.
func encodeState(users []user, groups []group) ([]byte, error) {
	w := &stateWriter{buf: make([]byte, 0, 32*len(users)+64)}
	w.num(stateVersion)
	w.num(len(users))
	byDN := make(map[string]int, len(users))
	for i := range users {
		u := &users[i]
		flags := 0
		if u.filterOff {
			flags |= flagFilterOff
		}
		if u.uacOff {
			flags |= flagUACOff
		}
		w.num(flags)
		for f, v := range [10]string{u.dn, u.id, u.name, u.email, u.given, u.family, u.display, u.uid, u.expires, u.held} {
			w.str(f, v)
		}
		if _, dup := byDN[u.dn]; !dup {
			byDN[u.dn] = i
		}
	}
	w.prev = [10]string{}
	w.num(len(groups))
	for _, g := range groups {
		for f, v := range [4]string{g.dn, g.id, g.name, g.readHeld} {
			w.str(f, v)
		}
		w.num(len(g.vals))
		for _, v := range g.vals {
			if i, ok := byDN[v]; ok {
				w.num(i*2 + 1)
				continue
			}
			w.num(len(v) * 2)
			w.buf = append(w.buf, v...)
		}
	}
	return w.buf, nil
}

type stateReader struct {
	b    []byte
	err  error
	prev [10]string
}

var errState = errors.New("the stored state does not decode")

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
		v = prev[:p] + string(mid) + prev[len(prev)-q:]
	}
	r.prev[field] = v
	return v
}

// decodeState reads what encodeState wrote.
func decodeState(b []byte) ([]user, []group, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("no stored state")
	}
	r := &stateReader{b: b}
	if v := r.num(); v != stateVersion || r.err != nil {
		return nil, nil, fmt.Errorf("%w (layout %d, this build writes %d)", errState, v, stateVersion)
	}
	n := r.num()
	if n > len(b) {
		return nil, nil, errState
	}
	users := make([]user, n)
	for i := range users {
		u := &users[i]
		flags := r.num()
		u.filterOff, u.uacOff = flags&flagFilterOff != 0, flags&flagUACOff != 0
		u.dn, u.id, u.name, u.email, u.given = r.str(0), r.str(1), r.str(2), r.str(3), r.str(4)
		u.family, u.display, u.uid, u.expires, u.held = r.str(5), r.str(6), r.str(7), r.str(8), r.str(9)
		if r.err != nil {
			return nil, nil, r.err
		}
	}
	r.prev = [10]string{}
	ng := r.num()
	if ng > len(b) {
		return nil, nil, errState
	}
	groups := make([]group, ng)
	for i := range groups {
		g := &groups[i]
		g.dn, g.id, g.name, g.readHeld = r.str(0), r.str(1), r.str(2), r.str(3)
		g.held = g.readHeld
		nv := r.num()
		if r.err != nil || nv > len(r.b) {
			return nil, nil, errState
		}
		if nv > 0 {
			g.vals = make([]string, nv)
		}
		for k := range g.vals {
			v := r.num()
			if v%2 == 1 {
				if v/2 >= len(users) {
					return nil, nil, errState
				}
				g.vals[k] = users[v/2].dn
				continue
			}
			g.vals[k] = string(r.bytes(v / 2))
		}
		if r.err != nil {
			return nil, nil, r.err
		}
	}
	if len(r.b) != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes left over", errState, len(r.b))
	}
	return users, groups, nil
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
	}{stateVersion, c})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
