package hardening

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Result sums up a hostile run.
type Result struct {
	Tried    int
	ByStatus map[int]int
	ByKind   map[string]int
	// TransportErrors are requests the server cut off (a huge body it
	// stopped reading); only acceptable for kind "huge" and "headers".
	TransportErrors int
	// Failures describe every answer that broke a rule.
	Failures []string
}

func (r Result) String() string {
	codes := make([]int, 0, len(r.ByStatus))
	for c := range r.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d cut off, statuses:", r.Tried, r.TransportErrors)
	for _, c := range codes {
		fmt.Fprintf(&b, " %d×%d", c, r.ByStatus[c])
	}
	return b.String()
}

// Run sends reqs to t with workers in parallel and checks every answer: no
// 5xx, no success for a write, the wanted status where one is set, and no
// forbidden string in any body.
func Run(ctx context.Context, client *http.Client, t Target, reqs []Request, workers int) Result {
	res := Result{ByStatus: map[int]int{}, ByKind: map[string]int{}}
	var mu sync.Mutex
	work := make(chan Request)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				status, body, err := send(ctx, client, t, r)
				mu.Lock()
				res.Tried++
				res.ByKind[r.Kind]++
				if problem := check(t, r, status, body, err); problem != "" {
					if len(res.Failures) < 50 {
						res.Failures = append(res.Failures, problem)
					}
				}
				if err != nil {
					res.TransportErrors++
				} else {
					res.ByStatus[status]++
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range reqs {
		select {
		case work <- r:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return res
}

func send(ctx context.Context, client *http.Client, t Target, r Request) (int, []byte, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, t.Base+r.Path, body)
	if err != nil {
		return 0, nil, err
	}
	if !r.NoAuth {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

func check(t Target, r Request, status int, body []byte, err error) string {
	what := fmt.Sprintf("%s %s %.120q (%s)", r.Method, r.Path, r.Body, r.Kind)
	if err != nil {
		if r.Kind == "huge" || r.Kind == "headers" || r.Kind == "deep" {
			return ""
		}
		return fmt.Sprintf("%s: %v", what, err)
	}
	notImplemented := status == 501 && (strings.HasPrefix(r.Path, "/Bulk") || strings.HasPrefix(r.Path, "/Me"))
	switch {
	case status >= 500 && !notImplemented: // RFC 7644 §3.11, §3.7: 501 for unsupported /Me and /Bulk
		return fmt.Sprintf("%s: %d %.300s", what, status, body)
	case r.Want != 0 && status != r.Want:
		return fmt.Sprintf("%s: %d, want %d: %.300s", what, status, r.Want, body)
	case !r.ReadOnly && status < 300:
		return fmt.Sprintf("%s: a hostile write was accepted (%d): %.300s", what, status, body)
	}
	for _, f := range t.Forbidden {
		// The request's own words may be echoed (a 404 naming the id asked
		// for); anything else of the other org is a leak.
		if f != "" && bytes.Contains(body, []byte(f)) && !strings.Contains(r.Path, f) && !bytes.Contains(r.Body, []byte(f)) {
			return fmt.Sprintf("%s: answer leaks %q of another org: %.300s", what, f, body)
		}
	}
	return ""
}

// SlowHeaders opens a connection to addr and sends a request's header one
// byte every interval, as a slowloris client does; it returns how long the
// server kept the connection open (up to max).
func SlowHeaders(addr string, interval, max time.Duration) (time.Duration, error) {
	head := "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer osk_slow\r\nX-Slow: " + strings.Repeat("s", 4096) + "\r\n\r\n"
	return slow(addr, []byte(head), nil, interval, max)
}

// SlowBody sends a complete header announcing a 1 MB body, then the body
// one byte every interval; it returns how long the server kept reading.
func SlowBody(addr, token string, interval, max time.Duration) (time.Duration, error) {
	head := "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/scim+json\r\nContent-Length: 1000000\r\n\r\n"
	return slow(addr, []byte(head), bytes.Repeat([]byte(" "), 1000000), interval, max)
}

func slow(addr string, head, body []byte, interval, max time.Duration) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan struct{})
	go func() { // the server answering or closing ends the wait
		io.Copy(io.Discard, c)
		close(closed)
	}()
	trickle := head
	if body != nil {
		if _, err := c.Write(head); err != nil {
			return time.Since(start), nil
		}
		trickle = body
	}
	for i := 0; i < len(trickle); i++ {
		if time.Since(start) > max {
			return max, nil
		}
		select {
		case <-closed:
			return time.Since(start), nil
		case <-time.After(interval):
		}
		if _, err := c.Write(trickle[i : i+1]); err != nil {
			return time.Since(start), nil
		}
	}
	select {
	case <-closed:
	case <-time.After(max - time.Since(start)):
	}
	return time.Since(start), nil
}
