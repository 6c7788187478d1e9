package main

import (
	"context"
	"encoding/json"
	"net"
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

// hostileBindServer is an LDAP server that refuses every bind with a
// diagnostic message holding a terminal escape and a forged line.
func hostileBindServer(t *testing.T, diag string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				// BindResponse to message 1: invalidCredentials (49), no
				// matched DN, the diagnostic message.
				op := append([]byte{0x0a, 0x01, 49, 0x04, 0x00, 0x04, byte(len(diag))}, diag...)
				msg := append([]byte{0x02, 0x01, 0x01, 0x61, byte(len(op))}, op...)
				c.Write(append([]byte{0x30, byte(len(msg))}, msg...))
				c.Read(buf)
			}(c)
		}
	}()
	return "ldap://" + ln.Addr().String()
}

// TestServerTextReachesNoTerminal: an error quoting what a directory sent
// (a bind refusal's diagnostic message) shows its controls escaped on
// stderr, in `check` and in the plan report.
func TestServerTextReachesNoTerminal(t *testing.T) {
	url := hostileBindServer(t, "no\x1b[2J\nguard: ok")
	cfg := ldapConfig(t, url, openGuard)
	for _, args := range [][]string{{"reconcile"}, {"plan"}, {"check"}} {
		code, out, errOut := cli(t, cfg, args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if strings.Contains(out+errOut, "\x1b") || strings.Contains(out+errOut, "\nguard: ok: check") ||
			strings.Contains(out+errOut, "\n  guard: ok: check") {
			t.Errorf("%v: the server's text reached the terminal raw:\n%q\n%q", args, out, errOut)
		}
		if !strings.Contains(out+errOut, `no\x1b[2J\nguard: ok`) {
			t.Errorf("%v: the diagnostic is not shown escaped:\n%q\n%q", args, out, errOut)
		}
	}
}
