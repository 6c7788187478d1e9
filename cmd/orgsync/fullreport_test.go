//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

func TestReportOptions(t *testing.T) {
	for _, tt := range []struct {
		name           string
		f              reportFlags
		terminal, full bool
		want           int
	}{
		{"terminal", reportFlags{format: "text"}, true, false, terminalPerAction},
		{"terminal markdown", reportFlags{format: "markdown"}, true, false, terminalPerAction},
		{"terminal --full", reportFlags{format: "text", full: true}, true, true, 0},
		{"pipe or file", reportFlags{format: "text"}, false, false, 0},
	} {
		if got := reportOptions(tt.f, tt.terminal, false, nil).PerAction; got != tt.want {
			t.Errorf("%s: PerAction %d, want %d", tt.name, got, tt.want)
		}
	}
}

// openPTY opens a pseudo-terminal: what the CLI writes to tty, a test
// reads from the returned reader.
func openPTY(t *testing.T) (tty *os.File, out *bytes.Buffer, wait func()) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var unlock int32
	var n uint32
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), c.req, uintptr(c.arg)); e != 0 {
			ptm.Close()
			t.Skipf("pseudo-terminal ioctl: %v", e)
		}
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		t.Skipf("open pseudo-terminal: %v", err)
	}
	out = &bytes.Buffer{}
	done := make(chan struct{})
	go func() {
		io.Copy(out, ptm) // ends with EIO once the terminal side is closed
		close(done)
	}()
	return tty, out, func() {
		tty.Close()
		<-done
		ptm.Close()
	}
}

// TestPlanOnATerminalListsTheFirstChanges plans a first provisioning of 30
// users from a real slapd: on a terminal the report lists the first 20
// provisions and says how to see all; with --full, or written to a pipe,
// it lists all 30.
func TestPlanOnATerminalListsTheFirstChanges(t *testing.T) {
	var ldif strings.Builder
	ldif.WriteString("dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n" +
		"dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n")
	for i := range 30 {
		fmt.Fprintf(&ldif, "\ndn: uid=u%02d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: u%02d\ncn: U %02d\nsn: U\nmail: u%02d@example.org\n", i, i, i, i)
	}
	path := filepath.Join(t.TempDir(), "users.ldif")
	if err := os.WriteFile(path, []byte(ldif.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ldap := startSlapd(t, path)
	cfg := ldapConfigRoles(t, ldap.url, "{max_deprovision: 0, max_deprovision_percent: 0}", "{}")

	onTerminal := func(args ...string) string {
		t.Helper()
		tty, out, wait := openPTY(t)
		var errb bytes.Buffer
		code := run(context.Background(), append([]string{"--config", cfg, "--no-color"}, args...), tty, &errb)
		wait()
		if code != 0 {
			t.Fatalf("%v on a terminal: exit %d\n%s\n%s", args, code, out, errb.String())
		}
		return strings.ReplaceAll(out.String(), "\r\n", "\n")
	}
	provisions := func(out string) int { return strings.Count(out, "\n  + u") }

	out := onTerminal("plan")
	if n := provisions(out); n != terminalPerAction {
		t.Errorf("plan on a terminal lists %d provisions, want %d:\n%s", n, terminalPerAction, out)
	}
	for _, want := range []string{"provision (30)", "summary: provision 30; the first 20 of each action follow",
		"  … and 10 more (--full or --format json lists every change)", "u19@example.org as member\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan on a terminal lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n  + u20@example.org") {
		t.Errorf("plan on a terminal lists the 21st provision:\n%s", out)
	}

	if out := onTerminal("plan", "--full"); provisions(out) != 30 || strings.Contains(out, "more (--full") {
		t.Errorf("plan --full on a terminal:\n%s", out)
	}
	code, piped, errOut := cli(t, cfg, "plan")
	if code != 0 || provisions(piped) != 30 || strings.Contains(piped, "more (--full") {
		t.Errorf("plan into a pipe: exit %d, %d provisions\n%s\n%s", code, provisions(piped), piped, errOut)
	}
}
