package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
)

// TestMembersListEscapesNames: names from a directory or an IdP are shown
// escaped in the text table, so that a forged one fakes no row and sends
// no terminal escape; JSON keeps them exact.
func TestMembersListEscapesNames(t *testing.T) {
	cfg := writeConfig(t, "")
	st := configStore(t, cfg)
	evil := []string{"x\n| evil | row |", "\x1b[2Jguard: ok", "y\rfake@example.org  active", "\u202egro.elpmaxe@nimda"}
	p := orgsync.Plan{Org: "acme", Owner: "corp"}
	for i, n := range evil {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: n, MemberKey: string(rune('a' + i)),
			Member: &orgsync.Member{UserName: n}})
	}
	if _, err := st.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := cli(t, cfg, "members", "list", "--org", "acme")
	if code != 0 {
		t.Fatalf("members list: %d %s", code, errOut)
	}
	if strings.ContainsAny(out, "\x1b\r\u202e") {
		t.Errorf("raw control or bidi character in members list:\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// header, one line per member, a blank line, the count
	if len(lines) != 1+len(evil)+2 {
		t.Errorf("members list has %d lines, want %d:\n%s", len(lines), len(evil)+3, out)
	}
	for _, want := range []string{`"x\n| evil | row |"`, `"\x1b[2Jguard: ok"`, `"\u202egro.elpmaxe@nimda"`} {
		if !strings.Contains(out, want) {
			t.Errorf("members list lacks %s:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, cfg, "members", "list", "--org", "acme", "--format", "json")
	var ms []admin.Member
	if code != 0 || json.Unmarshal([]byte(out), &ms) != nil {
		t.Fatalf("members list json: %d %s", code, out)
	}
	exact := map[string]bool{}
	for _, m := range ms {
		exact[m.UserName] = true
	}
	for _, n := range evil {
		if !exact[n] {
			t.Errorf("JSON lost the exact name %q", n)
		}
	}
}
