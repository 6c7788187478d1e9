package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// queueSize is how many notifications one webhook holds while its receiver
// is slow or down; past it new ones are dropped (and logged).
const queueSize = 256

// Notifier sends runs that need attention to webhooks. Create it with Open,
// start it with Start, and Close it to deliver what is queued.
type Notifier struct {
	hooks []*hook
	log   zerolog.Logger
	// UserAgent is sent with every request.
	UserAgent string
	// Client sends the requests; it never follows redirects (the URL is a
	// secret, and so may be what is sent to it).
	Client *http.Client

	wg     sync.WaitGroup
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
}

type hook struct {
	cfg   Config
	url   string
	queue chan message
}

type message struct {
	event string
	body  []byte
}

// Open resolves the webhooks' URLs (url or url_file) and returns their
// Notifier. cfgs are defaulted and validated already.
func Open(cfgs []Config, log zerolog.Logger) (*Notifier, error) {
	n := &Notifier{
		log:       log,
		UserAgent: "orgsync",
		Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
	var errs []error
	for _, c := range cfgs {
		u, err := orgsync.ResolveSecret(c.URL, c.URLFile)
		switch {
		case err == nil && u == "" && c.URLFile == "":
			err = fmt.Errorf("required (or url_file): %w", orgsync.ErrInvalid)
		case err == nil:
			err = checkURL(u.Reveal())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notifications %q: url: %w", c.Name, err))
			continue
		}
		n.hooks = append(n.hooks, &hook{cfg: c, url: u.Reveal(), queue: make(chan message, queueSize)})
	}
	return n, errors.Join(errs...)
}

// Outcome says why run needs attention: OnBlocked, OnFailed, OnForced, or
// "" when it does not.
func Outcome(run orgsync.Run) string {
	switch {
	case run.Result == orgsync.RunFailed:
		return OnFailed
	case run.Result == orgsync.RunBlocked:
		return OnBlocked
	case run.Guard.Forced:
		return OnForced
	}
	return ""
}

// Notify queues run for every webhook that wants it. It never blocks.
func (n *Notifier) Notify(run orgsync.Run) {
	if n == nil || len(n.hooks) == 0 {
		return
	}
	on := Outcome(run)
	if on == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	for _, h := range n.hooks {
		if !slices.Contains(h.cfg.On, on) || len(h.cfg.Orgs) > 0 && !slices.Contains(h.cfg.Orgs, run.Org) {
			continue
		}
		body, err := render(h.cfg.Format, on, run)
		if err != nil {
			n.log.Error().Err(err).Str("webhook", h.cfg.Name).Msg("notification not rendered")
			continue
		}
		select {
		case h.queue <- message{event: "run." + on, body: body}:
		default:
			n.log.Warn().Str("webhook", h.cfg.Name).Int64("run", run.ID).Str("event", "run."+on).
				Msg("notification dropped: the webhook's queue is full (is its receiver down?)")
		}
	}
}

// Start delivers queued notifications until ctx is cancelled or Close.
func (n *Notifier) Start(ctx context.Context) {
	if n == nil {
		return
	}
	ctx, n.cancel = context.WithCancel(ctx)
	for _, h := range n.hooks {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.deliverAll(ctx, h)
		}()
	}
}

// Close stops taking notifications and waits until the queued ones are
// delivered or given up, or until ctx ends (then the rest are dropped).
func (n *Notifier) Close(ctx context.Context) {
	if n == nil {
		return
	}
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		for _, h := range n.hooks {
			close(h.queue)
		}
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if n.cancel != nil {
			n.cancel()
		}
		<-done
	}
	if n.cancel != nil {
		n.cancel()
	}
}

func (n *Notifier) deliverAll(ctx context.Context, h *hook) {
	for m := range h.queue {
		if ctx.Err() != nil {
			n.log.Warn().Str("webhook", h.cfg.Name).Str("event", m.event).Msg("notification dropped: shutting down")
			continue
		}
		n.deliver(ctx, h, m)
	}
}

// deliver tries m until it is accepted, fails for good, or the attempts are
// used up.
func (n *Notifier) deliver(ctx context.Context, h *hook, m message) {
	wait := h.cfg.Backoff.TimeDuration()
	for attempt := 1; ; attempt++ {
		retryAfter, err := n.post(ctx, h, m)
		if err == nil {
			n.log.Debug().Str("webhook", h.cfg.Name).Str("event", m.event).Int("attempt", attempt).Msg("notification delivered")
			return
		}
		var final *finalError
		if errors.As(err, &final) || attempt >= h.cfg.Attempts || ctx.Err() != nil {
			n.log.Error().Str("webhook", h.cfg.Name).Str("event", m.event).Int("attempts", attempt).
				Str("error", err.Error()).Msg("notification not delivered")
			return
		}
		d := max(wait, retryAfter)
		d = min(d, h.cfg.MaxBackoff.TimeDuration())
		n.log.Warn().Str("webhook", h.cfg.Name).Str("event", m.event).Int("attempt", attempt).
			Str("error", err.Error()).Dur("retry_in", d).Msg("notification failed; retrying")
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, h.cfg.MaxBackoff.TimeDuration())
	}
}

// finalError is a failure that retrying will not mend (a 4xx).
type finalError struct{ status int }

func (e *finalError) Error() string { return fmt.Sprintf("answered %d", e.status) }

// post sends m once. It returns how long the receiver asked to wait
// (Retry-After) with a retryable error. Errors never hold the URL.
func (n *Notifier) post(ctx context.Context, h *hook, m message) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout.TimeDuration())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(m.body))
	if err != nil {
		return 0, &finalError{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.UserAgent)
	req.Header.Set("X-Orgsync-Event", m.event)
	resp, err := n.Client.Do(req)
	if err != nil {
		// url.Error holds the URL: keep only what went wrong.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return 0, fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return 0, nil
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("answered %d", s)
	default:
		return 0, &finalError{status: s}
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// payload is the generic JSON body.
type payload struct {
	Event      string            `json:"event"`
	RunID      int64             `json:"run_id"`
	Org        string            `json:"org"`
	Source     string            `json:"source"`
	Result     orgsync.RunResult `json:"result"`
	Guard      orgsync.Decision  `json:"guard"`
	Summary    orgsync.Summary   `json:"summary"`
	Error      string            `json:"error,omitempty"`
	StartedAt  time.Time         `json:"started_at"`
	FinishedAt time.Time         `json:"finished_at"`
	DurationMS int64             `json:"duration_ms"`
	Applied    *orgsync.Applied  `json:"applied,omitempty"`
}

func render(format, on string, run orgsync.Run) ([]byte, error) {
	if format == FormatSlack {
		return json.Marshal(map[string]string{"text": slackText(on, run)})
	}
	return json.Marshal(payload{
		Event: "run." + on, RunID: run.ID, Org: run.Org, Source: run.Source, Result: run.Result,
		Guard: run.Guard, Summary: run.Summary, Error: run.Error, StartedAt: run.StartedAt,
		FinishedAt: run.FinishedAt, DurationMS: run.Duration().Milliseconds(), Applied: run.Applied,
	})
}

// slackText is one message line; Slack's three control characters are
// escaped so that a source's error text cannot post a link or a mention.
func slackText(on string, run orgsync.Run) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
	what := fmt.Sprintf("run %d of source %s (org %s)", run.ID, esc(run.Source), esc(run.Org))
	switch on {
	case OnBlocked:
		return fmt.Sprintf(":warning: orgsync: %s was blocked by a guard, nothing applied: %s. Review it with `orgsync plan --source %s`.",
			what, esc(run.Guard.Reason), esc(run.Source))
	case OnFailed:
		return fmt.Sprintf(":x: orgsync: %s failed: %s", what, esc(run.Error))
	default:
		return fmt.Sprintf(":large_orange_diamond: orgsync: %s was forced past its guard (%s) and applied %d changes.",
			what, esc(run.Guard.Reason), appliedTotal(run))
	}
}

func appliedTotal(run orgsync.Run) int {
	if run.Applied == nil {
		return 0
	}
	return run.Applied.Total()
}
