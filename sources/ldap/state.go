package ldap

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// stateVersion is the layout of savedState; a cursor saved with another
// layout is not honoured (its config fingerprint differs).
const stateVersion = 1

// savedState is the desired state at a cursor, as the entries were read:
// users and groups in server order, member values unresolved. It is what
// an incremental read merges the changed entries into; the Snapshot is
// then computed from it exactly as from a full read.
type savedState struct {
	Users  []savedUser
	Groups []savedGroup
}

type savedUser struct {
	DN, ID, Name, Email, Given, Family, Display, UID, Expires, Held string
	FilterOff, UACOff                                               bool
}

type savedGroup struct {
	DN, ID, Name, Held string
	Vals               []string
}

// encodeState writes users and groups as the cursor's State: gob,
// deflated (a 100k-user directory is some tens of MB as structs).
func encodeState(users []user, groups []group) ([]byte, error) {
	st := savedState{Users: make([]savedUser, len(users)), Groups: make([]savedGroup, len(groups))}
	for i, u := range users {
		st.Users[i] = savedUser{DN: u.dn, ID: u.id, Name: u.name, Email: u.email, Given: u.given, Family: u.family,
			Display: u.display, UID: u.uid, Expires: u.expires, Held: u.held, FilterOff: u.filterOff, UACOff: u.uacOff}
	}
	for i, g := range groups {
		st.Groups[i] = savedGroup{DN: g.dn, ID: g.id, Name: g.name, Held: g.readHeld, Vals: g.vals}
	}
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := gob.NewEncoder(zw).Encode(&st); err != nil {
		return nil, fmt.Errorf("encode the state: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeState reads what encodeState wrote.
func decodeState(b []byte) ([]user, []group, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("no stored state")
	}
	var st savedState
	zr := flate.NewReader(bytes.NewReader(b))
	defer zr.Close()
	if err := gob.NewDecoder(zr).Decode(&st); err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("the stored state does not decode: %w", err)
	}
	users := make([]user, len(st.Users))
	for i, u := range st.Users {
		users[i] = user{dn: u.DN, id: u.ID, name: u.Name, email: u.Email, given: u.Given, family: u.Family,
			display: u.Display, uid: u.UID, expires: u.Expires, held: u.Held, filterOff: u.FilterOff, uacOff: u.UACOff}
	}
	groups := make([]group, len(st.Groups))
	for i, g := range st.Groups {
		groups[i] = group{dn: g.DN, id: g.ID, name: g.Name, readHeld: g.Held, held: g.Held, vals: g.Vals}
	}
	return users, groups, nil
}

// fingerprint identifies the parts of the config that decide what is read
// and how it maps: state saved under another fingerprint is not reused.
// It holds no secret (the bind DN, not its password).
func (s *Source) fingerprint() string {
	b, _ := json.Marshal(struct {
		Version      int
		Flavor       string
		BindDN       string
		User         UserConfig
		Group        GroupConfig
		RequireGroup string
		RoleMap      map[string]string
	}{stateVersion, s.cfg.Flavor, s.cfg.BindDN, s.cfg.User, s.cfg.Group, s.cfg.RequireGroup, s.cfg.RoleMap})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
