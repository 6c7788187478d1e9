package ldap

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/statepatch"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/reconciler"
)

// ownSlapd is a slapd of the test's own with the fixture, started by
// scripts/slapd.sh with env (SLAPD_SYNCPROV, SLAPD_SESSIONLOG): these
// tests write to it.
type ownSlapd struct {
	url, dir string
}

func startOwnSlapd(t *testing.T, env ...string) *ownSlapd {
	t.Helper()
	testenv.Require(t, testenv.LDAPURLVar) // slapd is installed
	if testing.Short() {
		t.Skip("starts a slapd of its own")
	}
	dir := filepath.Join(t.TempDir(), "slapd")
	var port int
	for i := 0; ; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		if l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1)); err == nil && port < 65534 {
			l2.Close()
			break
		}
		if i > 50 {
			t.Fatal("no free port pair")
		}
	}
	cmd := exec.Command("../../scripts/slapd.sh", "start", dir, fmt.Sprint(port), "testdata/fixture.ldif")
	cmd.Env = append(cmd.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start slapd: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("../../scripts/slapd.sh", "stop", dir).Run() })
	return &ownSlapd{url: fmt.Sprintf("ldap://127.0.0.1:%d", port), dir: dir}
}

// modify applies LDIF change records as the directory manager.
func (s *ownSlapd) modify(t *testing.T, ldif string) {
	t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", s.url, "-D", "cn=admin,"+suffix, "-w", "admin")
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
}

// deletions are the edits a deletion check must see: a user deleted, a
// group deleted, a user renamed, a user moved out of user.base_dn, a user
// modified out of user.filter; and a profile change besides.
const deletions = `dn: uid=bulk0001,ou=bulk,ou=people,dc=example,dc=org
changetype: delete

dn: cn=uniq,ou=groups,dc=example,dc=org
changetype: delete

dn: uid=bulk0002,ou=bulk,ou=people,dc=example,dc=org
changetype: modrdn
newrdn: uid=bulk0002r
deleteoldrdn: 1

dn: uid=bulk0003,ou=bulk,ou=people,dc=example,dc=org
changetype: modrdn
newrdn: uid=bulk0003
deleteoldrdn: 1
newsuperior: dc=example,dc=org

dn: uid=bulk0004,ou=bulk,ou=people,dc=example,dc=org
changetype: modify
add: employeeType
employeeType: gone

dn: uid=bob,ou=people,dc=example,dc=org
changetype: modify
replace: title
title: Staff Engineer
`

// syncConfig reads the fixture with the enterprise attributes and a user
// filter that an entry can be modified out of.
func syncConfig(url string) Config {
	return Config{URL: url, BindDN: syncDN, BindPassword: "sync", PageSize: 100,
		User: UserConfig{BaseDN: "ou=people," + suffix, Filter: "(&(objectClass=inetOrgPerson)(!(employeeType=gone)))", DisabledFilter: "(employeeType=disabled)",
			TitleAttribute: "title", EmployeeNumberAttribute: "employeeNumber", DepartmentAttribute: "departmentNumber", ManagerAttribute: "manager"},
		Group:   GroupConfig{BaseDN: "ou=groups," + suffix, Nested: true},
		RoleMap: map[string]string{"cn=kms-admins,ou=groups," + suffix: orgsync.RoleAdmin}}
}

// TestSlapdSyncDeletions: after deletions, a rename, a move out of the
// base and a modification out of the filter, the incremental read's
// Snapshot is the full read's, its reason names how deletions were found,
// and the next read continues from the new cookie. Each server: syncprov
// with a session log (a syncIdSet of deletes), without one (a present
// phase), without syncprov (the keys-only listing, with a warning), and a
// cookie the server does not take (the listing, with a warning).
func TestSlapdSyncDeletions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		cookie  []byte // replaces the stored cookies when set
		keyless bool   // a stored user loses its key (held without entryUUID)
		reason  string
		warning string
	}{
		{"session log", nil, nil, false, "deletions by sync refresh (session log", ""},
		{"present phase", []string{"SLAPD_SESSIONLOG=0"}, nil, false, "deletions by sync refresh (present phase", ""},
		{"no syncprov", []string{"SLAPD_SYNCPROV=0"}, nil, false, "keys listed for deletions (the server refused the sync refresh", "not by a sync refresh"},
		{"cookie not taken", nil, []byte("garbage"), false, "keys listed for deletions (the server answered the sync refresh without a cookie", "not by a sync refresh"},
		{"cookie refused", nil, []byte("rid=000,csn=20991231000000.000000Z#000000#000#000000"), false, "keys listed for deletions (the server refused the sync refresh", "not by a sync refresh"},
		// The keys-only listing then finds that the server has a key for
		// it after all, and the read is full.
		{"stored entry without a key", nil, nil, true, "has another key than stored", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sl := startOwnSlapd(t, tc.env...)
			cfg := syncConfig(sl.url)
			s := newTestSource(t, cfg)
			_, c1, read := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
			if read.Kind != orgsync.ReadFull {
				t.Fatalf("first read %+v", read)
			}
			if tc.cookie != nil || tc.keyless {
				users, groups, ss, err := decodeState(c1.State)
				if err != nil || len(ss.users) == 0 || len(ss.groups) == 0 {
					t.Fatalf("the first read's state: cookies %q %q, %v", ss.users, ss.groups, err)
				}
				if tc.cookie != nil {
					ss.users, ss.groups = tc.cookie, tc.cookie
				}
				if tc.keyless {
					// As a user stored held (its entryUUID unreadable then).
					u := &users[len(users)-1]
					u.id, u.held, u.at, u.end = "", "no entryUUID (ldap.user.id_attribute)", 0, 0
				}
				if c1.State, err = encodeState(users, groups, ss, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			sl.modify(t, deletions)
			time.Sleep(10 * time.Millisecond) // CSNs have microseconds; keep the edits apart from the read
			snap, c2, read := snapshotFrom(t, s, c1, "")
			if tc.keyless {
				if read.Kind != orgsync.ReadFull || !strings.Contains(read.Reason, tc.reason) {
					t.Fatalf("read %+v, want full with %q", read, tc.reason)
				}
				return
			}
			if read.Kind != orgsync.ReadIncremental || !strings.Contains(read.Reason, tc.reason) {
				t.Fatalf("read %+v, want incremental with %q", read, tc.reason)
			}
			t.Logf("%s", read.Reason)
			full := mustSnapshot(t, cfg)
			if got, want := jsonOf(t, withoutWarnings(snap)), jsonOf(t, withoutWarnings(full)); got != want {
				t.Fatalf("the incremental Snapshot differs from the full one:\n got %s\nwant %s", got, want)
			}
			for _, gone := range []string{"bulk0001@example.org", "bulk0003@example.org", "bulk0004@example.org"} {
				if memberByName(snap, gone) != nil {
					t.Errorf("%s is still in the Snapshot", gone)
				}
			}
			if groupByName(snap, "uniq") != nil {
				t.Error("the deleted group uniq is still in the Snapshot")
			}
			if m := memberByName(snap, "bulk0002@example.org"); m == nil || !strings.HasPrefix(m.DN, "uid=bulk0002r,") {
				t.Errorf("the renamed bulk0002: %+v", m)
			}
			if got := warned(snap, "not by a sync refresh"); (tc.warning != "") != got {
				t.Errorf("warned %v, want %q: %q", got, tc.warning, snap.Warnings)
			}
			if read.Scope == nil || !contains(read.Scope.Groups, groupByName(full, "big").ExternalID) {
				t.Errorf("scope %+v: the group big lost members", read.Scope)
			}

			// The next read continues from the cookies the last one kept.
			sl.modify(t, "dn: uid=bulk0005,ou=bulk,ou=people,dc=example,dc=org\nchangetype: delete\n")
			time.Sleep(10 * time.Millisecond)
			snap, _, read = snapshotFrom(t, s, c2, "")
			if memberByName(snap, "bulk0005@example.org") != nil || read.Kind != orgsync.ReadIncremental {
				t.Fatalf("the read after: %+v, bulk0005 still there: %v", read, memberByName(snap, "bulk0005@example.org") != nil)
			}
			if tc.cookie != nil && !strings.Contains(read.Reason, "deletions by sync refresh") {
				t.Errorf("after a refused cookie, the next read primed new ones: %q", read.Reason)
			}
			if got, want := jsonOf(t, withoutWarnings(snap)), jsonOf(t, withoutWarnings(mustSnapshot(t, cfg))); got != want {
				t.Fatalf("the second incremental Snapshot differs from the full one:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestSlapdIncrementalKeepsEnterpriseAttributes: an incremental read
// after an unrelated change keeps the title, employee number, department
// and manager of the users that did not change (layout 2 of the state
// kept none of them: alice and bob lost theirs).
func TestSlapdIncrementalKeepsEnterpriseAttributes(t *testing.T) {
	sl := startOwnSlapd(t)
	for _, tc := range []struct {
		name string
		cfg  func(Config) Config
	}{
		{"sync refresh", func(c Config) Config { return c }},
		{"keys-only listing", func(c Config) Config { c.User.IDAttribute = "uid"; return c }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(syncConfig(sl.url))
			s := newTestSource(t, cfg)
			_, c1, _ := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
			sl.modify(t, fmt.Sprintf("dn: uid=bulk0100,ou=bulk,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: sn\nsn: %s\n", tc.name))
			time.Sleep(10 * time.Millisecond)
			snap, _, read := snapshotFrom(t, s, c1, "")
			if read.Kind != orgsync.ReadIncremental {
				t.Fatalf("read %+v", read)
			}
			full := mustSnapshot(t, cfg)
			for _, name := range []string{"alice@example.org", "bob@example.org"} {
				got, want := memberByName(snap, name), memberByName(full, name)
				if got == nil || want == nil || len(want.Attributes) == 0 || string(got.Attributes) != string(want.Attributes) {
					t.Errorf("%s: incremental attributes %s, full %s", name, attrsOf(got), attrsOf(want))
				}
			}
			if jsonOf(t, withoutWarnings(snap)) != jsonOf(t, withoutWarnings(full)) {
				t.Error("the incremental Snapshot differs from the full one")
			}
		})
	}
}

func attrsOf(m *orgsync.Member) string {
	if m == nil {
		return "(no member)"
	}
	return string(m.Attributes)
}

// TestSlapdSyncRefreshCut: a connection cut in the middle of the sync
// refresh fails the read (the reconciler then applies nothing and keeps
// the cursor); it is not taken for a refusal and read around.
func TestSlapdSyncRefreshCut(t *testing.T) {
	sl := startOwnSlapd(t, "SLAPD_SESSIONLOG=0") // a present phase: a long response
	proxy := newCutProxy(t, strings.TrimPrefix(sl.url, "ldap://"))
	cfg := syncConfig("ldap://" + proxy.addr)
	s := newTestSource(t, cfg)
	_, c1, _ := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
	sl.modify(t, deletions)
	time.Sleep(10 * time.Millisecond)
	// Connections: the wire client's, then the sync refresh's: cut the
	// second once it has sent 2 kB.
	proxy.cut.Store(proxy.conns.Load() + 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, read, err := s.SnapshotFrom(ctx, reconciler.ReadRequest{Prev: c1})
	if err == nil {
		t.Fatalf("a read through a cut sync refresh succeeded: %+v", read)
	}
	if !strings.Contains(err.Error(), "sync refresh") {
		t.Errorf("error %v, want it to name the sync refresh", err)
	}
	t.Logf("cut: %v", err)
}

// cutProxy forwards to target; the connection numbered cut (1-based)
// has its server side cut after 2,000 bytes.
type cutProxy struct {
	addr       string
	conns, cut atomic.Int64
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &cutProxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := p.conns.Add(1)
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				defer s.Close()
				if n == p.cut.Load() {
					io.CopyN(c, s, 2000)
					return
				}
				io.Copy(c, s)
			}()
		}
	}()
	return p
}

func withoutWarnings(s orgsync.Snapshot) orgsync.Snapshot {
	s.Warnings = nil
	return s
}

func warned(s orgsync.Snapshot, sub string) bool {
	for _, w := range s.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestSlapdKeptDecodedState: a source that keeps its last state decoded
// (serve) starts the next incremental read from it when the cursor's
// state is that one, decodes it otherwise (an older cursor), and reads
// the same Snapshot as a full read either way, over modifications, a
// deletion and a rename.
func TestSlapdKeptDecodedState(t *testing.T) {
	sl := startOwnSlapd(t)
	cfg := syncConfig(sl.url)
	s := newTestSource(t, cfg)
	s.KeepDecodedState()
	_, c1, _ := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
	if s.decoded == nil || s.decoded.id != statepatch.IDOf(c1.State) {
		t.Fatal("the full read kept no decoded state, or another one")
	}
	steps := []string{
		"dn: uid=bulk0100,ou=bulk,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: sn\nsn: kept one\n",
		"dn: uid=bulk0101,ou=bulk,ou=people,dc=example,dc=org\nchangetype: delete\n",
		"dn: uid=bulk0102,ou=bulk,ou=people,dc=example,dc=org\nchangetype: modrdn\nnewrdn: uid=bulk0102r\ndeleteoldrdn: 1\n",
		"dn: uid=bob,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: title\ntitle: Kept Engineer\n",
	}
	prev := c1
	for i, ldif := range steps {
		sl.modify(t, ldif)
		time.Sleep(10 * time.Millisecond)
		kept := s.decoded
		if got, want := s.HeldState(), statepatch.IDOf(prev.State).String(); got != want {
			t.Fatalf("step %d: the source says it holds the state %s, want %s", i, got, want)
		}
		from := prev
		if i%2 == 1 {
			// As the store hands it back to a source holding the State.
			from.State, from.StateHeld = nil, true
		}
		snap, next, read := snapshotFrom(t, s, from, "")
		if read.Kind != orgsync.ReadIncremental {
			t.Fatalf("step %d: read %+v", i, read)
		}
		if s.decoded == kept || s.decoded == nil || s.decoded.id != statepatch.IDOf(next.State) {
			t.Fatalf("step %d: the read did not keep its new state", i)
		}
		if jsonOf(t, withoutWarnings(snap)) != jsonOf(t, withoutWarnings(mustSnapshot(t, cfg))) {
			t.Fatalf("step %d: the Snapshot read from the kept state differs from a full read's", i)
		}
		prev = next
	}
	// An older cursor: its state is not the kept one, and is decoded.
	sl.modify(t, "dn: uid=bulk0100,ou=bulk,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: sn\nsn: kept two\n")
	time.Sleep(10 * time.Millisecond)
	snap, _, read := snapshotFrom(t, s, c1, "")
	if read.Kind == orgsync.ReadIncremental && jsonOf(t, withoutWarnings(snap)) != jsonOf(t, withoutWarnings(mustSnapshot(t, cfg))) {
		t.Fatal("a read from an older cursor differs from a full read")
	}
	// A cursor that says the source holds its State, to a source that
	// holds none: read in full, not failed.
	fresh := newTestSource(t, cfg)
	held := prev
	held.State, held.StateHeld = nil, true
	snap, _, read = snapshotFrom(t, fresh, held, "")
	if read.Kind != orgsync.ReadFull || !strings.Contains(read.Reason, "held is gone") {
		t.Fatalf("a held State the source does not hold: read %+v, want full", read)
	}
	if jsonOf(t, withoutWarnings(snap)) != jsonOf(t, withoutWarnings(mustSnapshot(t, cfg))) {
		t.Fatal("the full read after a lost held State differs from a full read")
	}
}
