package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/orgsync/orgsync"
)

// progress is the one-line progress display of a long source read on a
// terminal's stderr. Log lines go to stderr through it too (Write), so
// that they never land in the middle of the line: it is cleared, the log
// line written, and the line drawn again below it. Off a terminal it
// draws nothing and passes log lines through.
type progress struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	line string // what is drawn now, "" for nothing
	last time.Time
}

// progress returns the app's progress display, made on first use.
func (a *app) progress() *progress {
	if a.prog == nil {
		a.prog = &progress{w: a.stderr, on: isTerminal(a.stderr)}
	}
	return a.prog
}

func (p *progress) update(source string, pr orgsync.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.line = fmt.Sprintf("reading %s: %d users, %d groups", source, pr.Users, pr.Groups)
	fmt.Fprint(p.w, "\r\033[K"+p.line)
}

func (p *progress) done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line != "" {
		fmt.Fprint(p.w, "\r\033[K")
		p.line = ""
	}
}

// Write writes a log line: below the progress line, never into it.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
	n, err := p.w.Write(b)
	if p.line != "" {
		fmt.Fprint(p.w, p.line)
	}
	return n, err
}
