package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// idleHealthz dials addr from local, GETs /healthz on a keep-alive
// connection and leaves it idle; nil when the server closed it at once.
func idleHealthz(local, addr string) net.Conn {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: orgsync\r\n\r\n"); err != nil {
		c.Close()
		return nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c
}

// stillHeld reports, per client, how many of its connections the server
// still holds (a read that times out rather than meeting EOF).
func stillHeld(byClient map[string][]net.Conn) map[string]int {
	var mu sync.Mutex
	out := map[string]int{}
	var wg sync.WaitGroup
	deadline := time.Now().Add(500 * time.Millisecond)
	for client, conns := range byClient {
		for _, c := range conns {
			if c == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.SetReadDeadline(deadline)
				if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
					mu.Lock()
					out[client]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return out
}

// TestIdleConnectionFloodDoesNotStarveSCIM: 2,000 idle keep-alive
// connections from one client and 1,000 more from twenty others (each
// after one unauthenticated /healthz) against a real serve with
// max_connections 300 and max_connections_per_client 50: the server holds
// no more than those, and another client's SCIM request is answered at
// once.
func TestIdleConnectionFloodDoesNotStarveSCIM(t *testing.T) {
	cfg := writeConfig(t, "")
	data, _ := os.ReadFile(cfg)
	data = []byte(strings.Replace(string(data), "admin_token: ", "max_connections: 300, max_connections_per_client: 50, admin_token: ", 1))
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	base, a, stop := startServe(t, cfg)
	defer stop()
	addr := strings.TrimPrefix(base, "http://")
	token, _, _ := a.st.CreateToken(context.Background(), "acme", "idp", 0)

	type job struct{ local string }
	jobs := make(chan job)
	var mu sync.Mutex
	byClient := map[string][]net.Conn{}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := idleHealthz(j.local, addr)
				mu.Lock()
				byClient[j.local] = append(byClient[j.local], c)
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := 0; i < 2000; i++ {
		jobs <- job{"127.0.0.1"}
	}
	for i := 0; i < 1000; i++ {
		jobs <- job{fmt.Sprintf("127.0.0.%d", 10+i%20)}
	}
	close(jobs)
	wg.Wait()
	defer func() {
		for _, cs := range byClient {
			for _, c := range cs {
				if c != nil {
					c.Close()
				}
			}
		}
	}()
	t.Logf("3,000 idle connections made in %v", time.Since(start))

	victim := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	req, _ := http.NewRequest("GET", base+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	t0 := time.Now()
	resp, err := victim.Do(req)
	if err != nil {
		t.Fatalf("another client's SCIM request during the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || time.Since(t0) > 2*time.Second {
		t.Fatalf("another client's SCIM request during the flood: %d after %v", resp.StatusCode, time.Since(t0))
	}

	held := stillHeld(byClient)
	total, one := 0, held["127.0.0.1"]
	for _, n := range held {
		total += n
	}
	t.Logf("server still holds %d of the flood's connections, %d of them from 127.0.0.1", total, one)
	if one > 50 || total > 300 {
		t.Fatalf("server holds %d idle connections of one client (max 50) and %d in all (max 300)", one, total)
	}
	// The flooding client's own next request is served too (it closes
	// that client's oldest idle connection).
	if c := idleHealthz("127.0.0.1", addr); c == nil {
		t.Fatal("a new request of the flooding client was refused although it had idle connections to give up")
	} else {
		c.Close()
	}
}

// TestLimitConfigs: the connection limits and the busy timeout are
// validated; unset, they take their defaults.
func TestLimitConfigs(t *testing.T) {
	_, err := LoadConfig("testdata/config/limits.bad.yaml", true)
	for _, want := range []string{"server.max_connections: must be at least 16",
		"server.max_connections_per_client: must be between 1 and server.max_connections (8)",
		"database.busy_timeout: must be between"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	cfg, err := LoadConfig(writeConfig(t, ""), true)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Server; s.MaxConnections != 4096 || s.MaxConnectionsPerClient != 128 || cfg.Database.BusyTimeout.TimeDuration() != 15*time.Second {
		t.Fatalf("defaults: max_connections %d, per client %d, busy_timeout %v", s.MaxConnections, s.MaxConnectionsPerClient, cfg.Database.BusyTimeout)
	}
}
