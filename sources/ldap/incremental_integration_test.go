package ldap

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

func newTestSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	s, err := New("test-ldap", cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func snapshotFrom(t *testing.T, s *Source, prev orgsync.Cursor, reason string) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	snap, next, read, err := s.SnapshotFrom(ctx, reconciler.ReadRequest{Prev: prev, FullReason: reason})
	if err != nil {
		t.Fatalf("SnapshotFrom: %v", err)
	}
	return snap, next, read
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSlapdIncrementalUnchanged: a first read is full and saves a cursor
// (contextCSN) with the state; the next, with nothing changed, is
// incremental and returns exactly the Snapshot a full read does.
func TestSlapdIncrementalUnchanged(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.RoleMap = map[string]string{"cn=kms-admins,ou=groups," + suffix: orgsync.RoleAdmin}
	s := newTestSource(t, cfg)
	full := mustSnapshot(t, cfg)

	snap, c1, read := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
	if read.Kind != orgsync.ReadFull || c1.Position == "" || len(c1.State) == 0 || c1.FullAt.IsZero() {
		t.Fatalf("first read: %+v, cursor position %q, %d state bytes", read, c1.Position, len(c1.State))
	}
	if jsonOf(t, snap) != jsonOf(t, full) {
		t.Fatal("the full read of SnapshotFrom differs from Snapshot")
	}
	snap, c2, read := snapshotFrom(t, s, c1, "")
	if read.Kind != orgsync.ReadIncremental || !strings.Contains(read.Reason, "nothing changed") {
		t.Fatalf("second read: %+v", read)
	}
	if c2.State != nil || c2.Position != c1.Position || !c2.FullAt.Equal(c1.FullAt) {
		t.Fatalf("unchanged read: cursor %+v, want the same position, the same FullAt and State kept (nil)", c2)
	}
	if got, want := jsonOf(t, snap), jsonOf(t, full); got != want {
		t.Fatalf("incremental snapshot differs from the full one:\n got %s\nwant %s", got, want)
	}
}

// TestSlapdIncrementalFallsBack: every cursor that cannot be honoured
// gives a full read, with a warning when it is a fault, and never an
// incremental one.
func TestSlapdIncrementalFallsBack(t *testing.T) {
	cfg := slapdConfig(t)
	s := newTestSource(t, cfg)
	_, c1, _ := snapshotFrom(t, s, orgsync.Cursor{}, "first run")

	future := c1
	future.Position = "20991231000000.000000Z#000000#000#000000"
	otherServer := c1
	otherServer.Server = "ldap://elsewhere:389 dc=example,dc=org"
	otherConfig := c1
	otherConfig.Config = "0123"
	garbled := c1
	garbled.Position = "20000101000000.000000Z#000000#000#000000"
	garbled.State = []byte("not a state")
	layout2 := c1
	layout2.Position = garbled.Position
	layout2.State = []byte{2, 0, 0} // a state of the layout before the cookies

	nocsn := cfg
	nocsn.BindDN, nocsn.BindPassword = "cn=nocsn,"+suffix, "nocsn"
	blind := newTestSource(t, nocsn)
	blindPrev := c1
	blindPrev.Config = blind.fingerprint()
	skewed := newTestSource(t, cfg)
	// This host's clock an hour behind the server's last change.
	last, ok := csnTime(c1.Position)
	if !ok {
		t.Fatalf("contextCSN %q does not parse", c1.Position)
	}
	skewed.Now = func() time.Time { return last.Add(-time.Hour) }

	for _, tc := range []struct {
		name   string
		src    *Source
		prev   orgsync.Cursor
		reason string // in Read.Reason
		warn   bool   // a warning in the Snapshot
	}{
		{"cursor newer than the server's", s, future, "older than the stored cursor", true},
		{"another server", s, otherServer, "another server", false},
		{"config changed", s, otherConfig, "config changed", false},
		{"state unreadable", s, garbled, "does not decode", true},
		{"state of an older layout", s, layout2, "has layout 2", false},
		{"contextCSN unreadable", blind, blindPrev, "no contextCSN", true},
		{"server clock ahead of ours", skewed, c1, "clock skew", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, next, read := snapshotFrom(t, tc.src, tc.prev, "")
			if read.Kind != orgsync.ReadFull || !strings.Contains(read.Reason, tc.reason) {
				t.Fatalf("read %+v, want full because %q", read, tc.reason)
			}
			warned := false
			for _, w := range snap.Warnings {
				warned = warned || strings.Contains(w, "read in full, not incrementally")
			}
			if warned != tc.warn {
				t.Errorf("warned %v, want %v: %q", warned, tc.warn, snap.Warnings)
			}
			if len(next.State) == 0 || next.FullAt.IsZero() {
				t.Errorf("a full read's cursor: %+v", next)
			}
			if len(snap.Members) == 0 {
				t.Error("a full read returned no members")
			}
		})
	}
}
