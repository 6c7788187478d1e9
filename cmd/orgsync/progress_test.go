package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

// TestProgressLineAndLogLines: a log line written while the progress line
// is drawn goes on a cleared line of its own, and the progress line comes
// back below it; off a terminal, log lines pass through untouched.
func TestProgressLineAndLogLines(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, on: true}
	p.update("corp-ldap", orgsync.Progress{Users: 500})
	p.Write([]byte(`{"level":"warn","message":"slow page"}` + "\n"))
	p.done()
	want := "\r\033[Kreading corp-ldap: 500 users, 0 groups" +
		"\r\033[K" + `{"level":"warn","message":"slow page"}` + "\n" + "reading corp-ldap: 500 users, 0 groups" +
		"\r\033[K"
	if b.String() != want {
		t.Errorf("terminal output:\n%q\nwant\n%q", b.String(), want)
	}
	// Once done, log lines are written as they are.
	b.Reset()
	p.Write([]byte("after\n"))
	if b.String() != "after\n" {
		t.Errorf("after done: %q", b.String())
	}

	var plain bytes.Buffer
	q := &progress{w: &plain, on: false}
	q.update("corp-ldap", orgsync.Progress{Users: 1})
	q.Write([]byte("line\n"))
	q.done()
	if plain.String() != "line\n" || strings.Contains(plain.String(), "reading") {
		t.Errorf("off a terminal: %q", plain.String())
	}
}
