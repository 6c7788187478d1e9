package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/orgsync/orgsync"
)

// Dialects.
const (
	DialectSCIM = "scim"
	DialectKMS  = "kms-scim"
)

// KMSPath is where a Hanzo KMS serves SCIM below its URL.
const KMSPath = "/api/v1/scim"

// Options configure a Client.
type Options struct {
	// BaseURL is the SCIM base (…/scim/v2); for DialectKMS the KMS URL,
	// below which KMSPath is added.
	BaseURL string
	Token   orgsync.Secret
	Dialect string
	// PageSize is the count of each list request (default 100).
	PageSize int
	// RateLimit bounds requests per second (0: unlimited).
	RateLimit float64
	// Retries is how many times a request is retried (default 5).
	Retries int
	// MaxRetryWait caps one wait between retries (default 30s).
	MaxRetryWait time.Duration
	HTTP         *http.Client
}

// Client talks to one SCIM target. It is safe for concurrent use.
type Client struct {
	base    string
	opts    Options
	http    *http.Client
	limiter *rate.Limiter
	calls   atomic.Int64
}

// New returns a client of o.
func New(o Options) *Client {
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = 30 * time.Second
	}
	base := strings.TrimRight(o.BaseURL, "/")
	if o.Dialect == DialectKMS && !strings.HasSuffix(base, KMSPath) {
		base += KMSPath
	}
	c := &Client{base: base, opts: o, http: o.HTTP}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if o.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(o.RateLimit), max(1, int(o.RateLimit)))
	}
	return c
}

// Base is the SCIM base URL requests go to.
func (c *Client) Base() string { return c.base }

// Requests is how many HTTP requests the client has sent, retries included.
func (c *Client) Requests() int64 { return c.calls.Load() }

// StatusError is a response the client did not expect.
type StatusError struct {
	Method, Path string
	Status       int
	Detail       string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("scim target: %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *StatusError) Unwrap() error {
	switch {
	case e.Status == http.StatusNotFound:
		return orgsync.ErrNotFound
	case e.Status == http.StatusConflict:
		return orgsync.ErrConflict
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return orgsync.ErrUnauthorized
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		return orgsync.ErrUnavailable
	case e.Status == http.StatusBadRequest:
		return orgsync.ErrInvalid
	}
	return nil
}

// do sends one request (body marshalled as JSON when not nil) and decodes
// a 2xx answer into out (when not nil). read marks requests safe to send
// again after a transport error or a 5xx.
func (c *Client) do(ctx context.Context, method, path string, body, out any, read bool) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("scim target: %s %s: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		retry, wait, err := c.once(ctx, method, path, payload, out, read)
		if err == nil || !retry || attempt >= c.opts.Retries {
			return err
		}
		if wait <= 0 {
			wait = time.Duration(100<<min(attempt, 8)) * time.Millisecond
		}
		wait = min(wait, c.opts.MaxRetryWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any, read bool) (retry bool, wait time.Duration, err error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return false, 0, fmt.Errorf("scim target: %s %s: %w", method, path, err)
		}
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return false, 0, fmt.Errorf("scim target: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.opts.Token.Reveal())
	req.Header.Set("Accept", "application/scim+json, application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	c.calls.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return read && ctx.Err() == nil && !permanent(err), 0, fmt.Errorf("scim target: %s %s: %w: %w", method, path, err, orgsync.ErrUnavailable)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return read, 0, fmt.Errorf("scim target: %s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return false, 0, fmt.Errorf("scim target: %s %s: decode: %w", method, path, err)
			}
		}
		return false, 0, nil
	}
	se := &StatusError{Method: method, Path: path, Status: resp.StatusCode, Detail: detail(data)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return true, retryAfter(resp.Header.Get("Retry-After")), se
	case resp.StatusCode >= 500:
		return read, 0, se
	}
	return false, 0, se
}

// permanent says whether a transport error carries its own verdict that
// a retry would meet the same failure (an untrusted certificate).
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// detail is the message of an error body: a SCIM error's detail (the KMS
// sends its status as a number), or the KMS's own {message}.
func detail(data []byte) string {
	var e struct {
		Detail  string `json:"detail"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Detail != "" {
			return truncate(e.Detail)
		}
		if e.Message != "" {
			return truncate(e.Message)
		}
	}
	return truncate(strings.TrimSpace(string(data)))
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
