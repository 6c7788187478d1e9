package scim

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/tlsconf"
)

const (
	// DefaultMaxBody bounds one response body (scim.max_response_bytes).
	DefaultMaxBody = 64 << 20
	// maxRetryAfter is the longest Retry-After honoured; a server asking
	// for more fails the read instead of holding the run for hours.
	maxRetryAfter = 5 * time.Minute
	backoffBase   = 500 * time.Millisecond
	backoffMax    = 30 * time.Second
)

func newTransport(c Config) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := tlsconf.CertPool(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("scim.ca_file: %w", err)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	if c.InsecureSkipVerify {
		t.TLSClientConfig.InsecureSkipVerify = true // the operator asked; New warns
	}
	return t, nil
}

// checkRedirect follows at most 10 redirects, and sends the bearer token
// only to the origin (scheme, host and port) it was meant for. Go's client
// drops Authorization only when the host name changes, so a redirect to
// another port or from https to http of the same host would carry it.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !sameOrigin(req.URL, via[0].URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// retryable marks a failure worth another attempt.
type retryable struct {
	err        error
	retryAfter time.Duration // from the server, 0 if none
}

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// get fetches u, retrying transient failures, and returns the body of a
// 200 answer.
func (s *Source) get(ctx context.Context, u *url.URL) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		body, err := s.attempt(ctx, u)
		if err == nil {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", s.where(u), context.Cause(ctx))
		}
		var r *retryable
		if !errors.As(err, &r) {
			return nil, fmt.Errorf("%s: %w", s.where(u), err)
		}
		if attempt >= s.maxRetries {
			return nil, fmt.Errorf("%s: giving up after %d attempts: %w", s.where(u), attempt+1, err)
		}
		wait := s.backoff(attempt)
		if r.retryAfter > 0 {
			if r.retryAfter > maxRetryAfter {
				return nil, fmt.Errorf("%s: server asks to retry after %s, more than the %s this source waits: %w",
					s.where(u), r.retryAfter, maxRetryAfter, err)
			}
			wait = r.retryAfter
		}
		s.log.Warn().Str("url", u.Redacted()).Int("attempt", attempt+1).Dur("wait", wait).
			Str("error", err.Error()).Msg("scim request failed; retrying")
		if err := s.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s: %w", s.where(u), err)
		}
	}
}

func (s *Source) where(u *url.URL) string {
	return fmt.Sprintf("scim: source %q: GET %s", s.name, u.Redacted())
}

// backoff is the wait before retry attempt+1: exponential, capped, with
// equal jitter so that many clients do not retry in step.
func (s *Source) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 16)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	return d/2 + time.Duration(s.rand(int64(d/2)+1))
}

// attempt is one request with its own timeout.
func (s *Source) attempt(ctx context.Context, u *url.URL) ([]byte, error) {
	rctx, cancel := context.WithTimeoutCause(ctx, s.cfg.Timeout.TimeDuration(), errAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token.Reveal())
	req.Header.Set("Accept", "application/scim+json, application/json")
	req.Header.Set("User-Agent", "orgsync")

	resp, err := s.client.Do(req)
	if err != nil {
		return nil, s.transportError(rctx, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBody+1))
	if err != nil {
		return nil, s.transportError(rctx, fmt.Errorf("read body: %w", err))
	}
	if int64(len(body)) > s.maxBody {
		return nil, fmt.Errorf("HTTP %d: response body exceeds the %s limit of scim.max_response_bytes (a smaller scim.page_size or scim.group_page_size helps, or raise it); nothing was synced",
			resp.StatusCode, size(s.maxBody))
	}

	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			s.mu.Lock()
			s.lastDate = d
			s.mu.Unlock()
		}
		return body, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, fmt.Errorf("HTTP %d: the server refused the token (check %s)%s: %w",
			code, s.tokenKey(), s.detail(body), orgsync.ErrUnauthorized)
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		(code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported):
		return nil, &retryable{
			err:        fmt.Errorf("HTTP %d%s", code, s.detail(body)),
			retryAfter: s.retryAfter(resp.Header.Get("Retry-After")),
		}
	case code == http.StatusNotFound && strings.HasSuffix(u.Path, "/Groups"):
		return nil, fmt.Errorf("HTTP %d%s (a provider without groups needs scim.skip_groups: true)", code, s.detail(body))
	default:
		return nil, fmt.Errorf("HTTP %d%s", code, s.detail(body))
	}
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// tokenKey is the setting the token came from.
func (s *Source) tokenKey() string {
	if s.cfg.TokenFile != "" {
		return "scim.token_file"
	}
	return "scim.token"
}

var errAttemptTimeout = errors.New("request timed out")

// transportError classifies a failure to get or read a response: the run's
// own cancellation is final, everything else (timeouts of this attempt,
// refused or reset connections) is worth retrying.
func (s *Source) transportError(rctx context.Context, err error) error {
	if errors.Is(context.Cause(rctx), errAttemptTimeout) {
		return &retryable{err: fmt.Errorf("no complete answer within %s (scim.timeout)", s.cfg.Timeout.TimeDuration())}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in the message
	}
	return &retryable{err: err}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func (s *Source) retryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(s.Now()); d > 0 {
			return d
		}
	}
	return 0
}

// detail is the server's explanation from a SCIM Error body, cut short and
// scrubbed of the token in case the server echoes it.
func (s *Source) detail(body []byte) string {
	var e struct {
		Detail   string `json:"detail"`
		ScimType string `json:"scimType"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Detail == "" && e.ScimType == "") {
		return ""
	}
	d := strings.TrimSpace(e.ScimType + " " + e.Detail)
	if tok := s.token.Reveal(); tok != "" {
		d = strings.ReplaceAll(d, tok, orgsync.Redacted)
	}
	if r := []rune(d); len(r) > 200 {
		d = string(r[:200]) + "…"
	}
	return ": " + strconv.Quote(d)
}

func defaultSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

func defaultRand(n int64) int64 { return rand.Int64N(n) }
