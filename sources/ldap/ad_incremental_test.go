package ldap

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

// adModify applies LDIF change records to the Samba DC as Administrator.
func adModify(t *testing.T, cfg Config, ldif string) {
	t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", cfg.URL, "-D", adAdminDN, "-w", adPassword)
	cmd.Env = append(os.Environ(), "LDAPTLS_REQCERT=never")
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
}

// TestSambaADIncremental: on AD the cursor is the DC's highestCommittedUSN,
// tied to its dnsHostName and invocationId; a change read by uSNChanged
// gives the Snapshot a full read gives; a USN older than stored, or
// another DC's, reads in full.
func TestSambaADIncremental(t *testing.T) {
	cfg := adConfig(t)
	s := newTestSource(t, cfg)
	_, c1, read := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
	if read.Kind != orgsync.ReadFull || c1.Position == "" || !strings.Contains(c1.Server, " ") || strings.HasSuffix(c1.Server, " ") {
		t.Fatalf("first read: %+v, cursor position %q server %q", read, c1.Position, c1.Server)
	}

	bob := "CN=Bob Baker,OU=Users,OU=KMS," + adBase
	adModify(t, cfg, "dn: "+bob+"\nchangetype: modify\nreplace: displayName\ndisplayName: Bob Incremental\n")
	t.Cleanup(func() {
		adModify(t, cfg, "dn: "+bob+"\nchangetype: modify\nreplace: displayName\ndisplayName: Bob Baker\n")
	})
	snap, c2, read := snapshotFrom(t, s, c1, "")
	if read.Kind != orgsync.ReadIncremental || read.Changed == 0 || read.Listed == 0 {
		t.Fatalf("after a change: read %+v", read)
	}
	found := false
	for _, m := range snap.Members {
		found = found || m.DisplayName == "Bob Incremental"
	}
	if !found {
		t.Fatal("the changed user's new displayName is not in the Snapshot")
	}
	if got, want := jsonOf(t, snap), jsonOf(t, mustSnapshot(t, cfg)); got != want {
		t.Fatalf("incremental snapshot differs from the full one:\n got %s\nwant %s", got, want)
	}
	if !(position{attr: "uSNChanged"}).before(c1.Position, c2.Position) {
		t.Fatalf("the USN did not grow: %s, then %s", c1.Position, c2.Position)
	}

	older := c2
	older.Position = "999999999"
	otherDC := c2
	otherDC.Server = "dc2.example.org 00112233445566778899aabbccddeeff"
	for _, tc := range []struct {
		name   string
		prev   orgsync.Cursor
		reason string
	}{
		{"USN older than stored", older, "older than the stored cursor"},
		{"another DC", otherDC, "another server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, read := snapshotFrom(t, s, tc.prev, "")
			if read.Kind != orgsync.ReadFull || !strings.Contains(read.Reason, tc.reason) {
				t.Fatalf("read %+v, want full because %q", read, tc.reason)
			}
		})
	}
}
