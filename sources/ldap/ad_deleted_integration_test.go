package ldap

import (
	"encoding/base64"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/orgsync/orgsync"
)

// canonical is a Snapshot as JSON with its lists sorted: an incremental
// read on AD keeps the stored entries' order and adds new ones after, a
// full read has the DC's order.
func canonical(t *testing.T, s orgsync.Snapshot) string {
	t.Helper()
	s.Members = slices.Clone(s.Members)
	slices.SortFunc(s.Members, func(a, b orgsync.Member) int { return strings.Compare(a.ExternalID, b.ExternalID) })
	s.Groups = slices.Clone(s.Groups)
	slices.SortFunc(s.Groups, func(a, b orgsync.Group) int { return strings.Compare(a.ExternalID, b.ExternalID) })
	s.Warnings = slices.Sorted(slices.Values(s.Warnings))
	return jsonOf(t, s)
}

// adTombstone makes sure the Deleted Objects container holds one deleted
// object the bind user can see (a fresh domain has none: the source then
// lists keys, as it cannot tell an empty container from a hidden one).
func adTombstone(t *testing.T, cfg Config) {
	t.Helper()
	dn := "CN=orgsync-tombstone,OU=Elsewhere," + adBase
	adModify(t, cfg, "dn: "+dn+"\nchangetype: add\nobjectClass: user\nsAMAccountName: orgsync-tomb\n\ndn: "+dn+"\nchangetype: delete\n")
}

// adTry applies LDIF and ignores failures: cleanup of what a failed test
// may have left.
func adTry(cfg Config, ldif string) {
	cmd := exec.Command("ldapmodify", "-c", "-x", "-H", cfg.URL, "-D", adAdminDN, "-w", adPassword)
	cmd.Env = append(cmd.Environ(), "LDAPTLS_REQCERT=never")
	cmd.Stdin = strings.NewReader(ldif)
	_ = cmd.Run()
}

// TestSambaADDeletedObjects: deletions, renames, moves out of and back
// into the base DN, a filter that stops and starts matching, and a nested
// group created and deleted, each read incrementally through the Deleted
// Objects container and the naming context's changed keys (no keys
// listing), each giving the Snapshot a full read gives.
func TestSambaADDeletedObjects(t *testing.T) {
	cfg := adConfig(t)
	cfg.User.Filter = "(&(objectCategory=person)(objectClass=user)(!(description=orgsync-hidden)))"
	users, groups, away := "OU=Users,OU=KMS,"+adBase, "OU=Groups,OU=KMS,"+adBase, "OU=Elsewhere,"+adBase
	kmsUsers := "CN=kms-users," + groups
	t.Cleanup(func() {
		adTry(cfg, fmt.Sprintf("dn: CN=Tmp One,%[1]s\nchangetype: delete\n\ndn: CN=Tmp Two,%[1]s\nchangetype: delete\n\n"+
			"dn: CN=Tmp Two,%[2]s\nchangetype: delete\n\ndn: CN=kms-tmp,%[3]s\nchangetype: delete\n\n"+
			"dn: CN=Erin Eck,%[1]s\nchangetype: modify\ndelete: description\n", users, away, groups))
	})
	adTombstone(t, cfg)
	s := newTestSource(t, cfg)
	_, cur, _ := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
	for _, step := range []struct {
		name, ldif string
		user       string // user name present (+) or absent (-) after the step
	}{
		{"a new user in kms-users", fmt.Sprintf("dn: CN=Tmp One,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: tmp\nuserPrincipalName: tmp@example.org\nuserAccountControl: 544\n\n"+
			"dn: %s\nchangetype: modify\nadd: member\nmember: CN=Tmp One,%s\n", users, kmsUsers, users), "+tmp@example.org"},
		{"renamed", fmt.Sprintf("dn: CN=Tmp One,%s\nchangetype: modrdn\nnewrdn: CN=Tmp Two\ndeleteoldrdn: 1\n", users), "+tmp@example.org"},
		{"moved out of the base DN", fmt.Sprintf("dn: CN=Tmp Two,%s\nchangetype: modrdn\nnewrdn: CN=Tmp Two\ndeleteoldrdn: 1\nnewsuperior: %s\n", users, away), "-tmp@example.org"},
		{"moved back in (its kms-users membership followed it)", fmt.Sprintf("dn: CN=Tmp Two,%s\nchangetype: modrdn\nnewrdn: CN=Tmp Two\ndeleteoldrdn: 1\nnewsuperior: %s\n", away, users), "+tmp@example.org"},
		{"no longer matching user.filter", fmt.Sprintf("dn: CN=Tmp Two,%s\nchangetype: modify\nreplace: description\ndescription: orgsync-hidden\n", users), "-tmp@example.org"},
		{"matching again", fmt.Sprintf("dn: CN=Tmp Two,%s\nchangetype: modify\ndelete: description\n", users), "+tmp@example.org"},
		{"a nested group brings erin into kms-users", fmt.Sprintf("dn: CN=kms-tmp,%s\nchangetype: add\nobjectClass: group\nmember: CN=Erin Eck,%s\n\n"+
			"dn: %s\nchangetype: modify\nadd: member\nmember: CN=kms-tmp,%s\n", groups, users, kmsUsers, groups), "+erin@example.org"},
		{"the nested group deleted (kms-users shows no change)", fmt.Sprintf("dn: CN=kms-tmp,%s\nchangetype: delete\n", groups), "-erin@example.org"},
		{"the user deleted", fmt.Sprintf("dn: CN=Tmp Two,%s\nchangetype: delete\n", users), "-tmp@example.org"},
		// Samba leaves kms-users' uSNChanged as it was: its stored member
		// value must not name the newcomer.
		{"a new user at the deleted one's DN, in no group", fmt.Sprintf("dn: CN=Tmp Two,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: tmp2\nuserPrincipalName: tmp2@example.org\nuserAccountControl: 544\n", users), "-tmp2@example.org"},
	} {
		adModify(t, cfg, step.ldif)
		snap, next, read := snapshotFrom(t, s, cur, "")
		if read.Kind != orgsync.ReadIncremental || !strings.Contains(read.Reason, "AD deleted objects, no keys listing") {
			t.Fatalf("%s: read %+v, want incremental through the deleted objects", step.name, read)
		}
		if got := memberByName(snap, step.user[1:]) != nil; got != (step.user[0] == '+') {
			t.Errorf("%s: %s in the Snapshot: %v", step.name, step.user[1:], got)
		}
		if got, want := canonical(t, snap), canonical(t, mustSnapshot(t, cfg)); got != want {
			t.Fatalf("%s: the incremental Snapshot differs from a full read's:\n got %s\nwant %s", step.name, got, want)
		}
		t.Logf("%s: %s", step.name, read.Reason)
		cur = next
	}
}

// TestSambaADDeletedObjectsRefused: when the deleted objects cannot be
// used, the read is still incremental and right, by the keys-only
// listing, and says why.
func TestSambaADDeletedObjectsRefused(t *testing.T) {
	admin := adConfig(t)
	adTombstone(t, admin)
	readerDN := "CN=orgsync-reader,CN=Users," + adBase
	pw := utf16.Encode([]rune(`"Reader-Pass-1!"`))
	b := make([]byte, 0, 2*len(pw))
	for _, r := range pw {
		b = append(b, byte(r), byte(r>>8))
	}
	adTry(admin, "dn: "+readerDN+"\nchangetype: delete\n")
	adModify(t, admin, "dn: "+readerDN+"\nchangetype: add\nobjectClass: user\nsAMAccountName: orgsync-reader\nuserAccountControl: 512\nunicodePwd:: "+
		base64.StdEncoding.EncodeToString(b)+"\n")
	t.Cleanup(func() { adTry(admin, "dn: "+readerDN+"\nchangetype: delete\n") })
	bob := "CN=Bob Baker,OU=Users,OU=KMS," + adBase
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		reason string
	}{
		{"a bind user who may not list deleted objects", func(c *Config) { c.BindDN, c.BindPassword = readerDN, "Reader-Pass-1!" }, "sees no deleted object"},
		{"a user.filter on memberOf", func(c *Config) {
			c.User.Filter = "(&(objectClass=user)(memberOf=CN=kms-users,OU=Groups,OU=KMS," + adBase + "))"
			c.RequireGroup = ""
		}, "back-link attribute"},
		{"user.id_attribute not objectGUID", func(c *Config) { c.User.IDAttribute = "sAMAccountName" }, "not objectGUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := adConfig(t)
			tc.mutate(&cfg)
			s := newTestSource(t, cfg)
			_, cur, _ := snapshotFrom(t, s, orgsync.Cursor{}, "first run")
			adModify(t, admin, "dn: "+bob+"\nchangetype: modify\nreplace: displayName\ndisplayName: Bob Refused\n")
			t.Cleanup(func() {
				adModify(t, admin, "dn: "+bob+"\nchangetype: modify\nreplace: displayName\ndisplayName: Bob Baker\n")
			})
			snap, _, read := snapshotFrom(t, s, cur, "")
			if read.Kind != orgsync.ReadIncremental || !strings.Contains(read.Reason, "keys listed, not AD deleted objects") ||
				!strings.Contains(read.Reason, tc.reason) || read.Listed == 0 {
				t.Fatalf("read %+v, want the keys listing because %q", read, tc.reason)
			}
			if got, want := canonical(t, snap), canonical(t, mustSnapshot(t, cfg)); got != want {
				t.Fatalf("the incremental Snapshot differs from a full read's:\n got %s\nwant %s", got, want)
			}
		})
	}
}
