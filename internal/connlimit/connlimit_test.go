package connlimit

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// serve runs an HTTP server on loopback behind a Listener.
func serve(t *testing.T, lim Limits) (*Listener, string) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(raw, lim, zerolog.Nop())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		ConnState: l.ConnState, IdleTimeout: time.Minute}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l, raw.Addr().String()
}

// idleConn dials addr from local, makes one keep-alive request and leaves
// the connection idle.
func idleConn(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil // refused: closed at once
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c
}

// waitAllIdle waits until every connection l counts is idle.
func waitAllIdle(t *testing.T, l *Listener) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		done := l.idle.Len() == l.open
		l.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the connections did not become idle")
		}
	}
}

// stillOpen counts the connections the server has not closed.
func stillOpen(conns []net.Conn) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	deadline := time.Now().Add(300 * time.Millisecond)
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(deadline)
			_, err := c.Read(make([]byte, 1))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return n
}

func TestPerClientShareClosesOldestIdle(t *testing.T) {
	l, addr := serve(t, Limits{Total: 100, PerClient: 3})
	var conns []net.Conn
	for i := 0; i < 10; i++ {
		conns = append(conns, idleConn(t, "127.0.0.1", addr))
		// "Oldest idle" is the one idle longest: let the server mark this
		// one idle before the next arrives, as a real client's pauses do
		// (on a loaded machine the next could otherwise come first).
		waitAllIdle(t, l)
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if n := stillOpen(conns); n != 3 {
		t.Fatalf("%d idle connections of one client still open, want its share 3", n)
	}
	// The newest are the ones kept.
	if stillOpen(conns[7:]) != 3 {
		t.Fatal("the share kept is not the newest connections")
	}
	other := idleConn(t, "127.0.0.2", addr)
	if other == nil {
		t.Fatal("another client was refused")
	}
	other.Close()
	time.Sleep(50 * time.Millisecond)
	if n := l.Open(); n > 3 {
		t.Fatalf("listener counts %d open, want ≤ 3", n)
	}
}

func TestTotalClosesOldestIdleOfAnyone(t *testing.T) {
	_, addr := serve(t, Limits{Total: 5, PerClient: 4})
	var conns []net.Conn
	for _, ip := range []string{"127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		for i := 0; i < 4; i++ {
			conns = append(conns, idleConn(t, ip, addr))
		}
	}
	if n := stillOpen(conns); n != 5 {
		t.Fatalf("%d connections open, want the total 5", n)
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// TestBusyConnectionsAreNeverClosed: when every connection is in a
// request, a new one over the limit is refused, and the busy ones finish.
func TestBusyConnectionsAreNeverClosed(t *testing.T) {
	raw, _ := net.Listen("tcp", "127.0.0.1:0")
	l := New(raw, Limits{Total: 2, PerClient: 2}, zerolog.Nop())
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-release; io.WriteString(w, "ok") }),
		ConnState: l.ConnState}
	go srv.Serve(l)
	defer srv.Close()
	addr := raw.Addr().String()
	var wg sync.WaitGroup
	results := make([]string, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := (&http.Client{Transport: &http.Transport{}}).Get("http://" + addr)
			if err != nil {
				results[i] = err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = string(b)
		}()
	}
	time.Sleep(200 * time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection over the limit with every connection busy was not refused: %v", err)
	}
	c.Close()
	close(release)
	wg.Wait()
	if strings.Join(results, ",") != "ok,ok" {
		t.Fatalf("busy requests: %q, want both ok", results)
	}
}

func TestExemptAddressesBoundByTotalOnly(t *testing.T) {
	_, addr := serve(t, Limits{Total: 8, PerClient: 2, Exempt: func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.6") }})
	var conns []net.Conn
	for i := 0; i < 6; i++ {
		conns = append(conns, idleConn(t, "127.0.0.6", addr))
	}
	if n := stillOpen(conns); n != 6 {
		t.Fatalf("%d connections of an exempt proxy open, want all 6", n)
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// TestTLSConnectionsAreTracked: behind TLS the server's ConnState sees
// *tls.Conn; the Listener still knows a connection in a request from an
// idle one, and never closes the busy one to make room.
func TestTLSConnectionsAreTracked(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var inRequest atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		inRequest.Add(1)
		<-release
		io.WriteString(w, "ok")
	}))
	l := New(srv.Listener, Limits{Total: 100, PerClient: 3}, zerolog.Nop())
	srv.Listener = l
	srv.Config.ConnState = l.ConnState
	srv.StartTLS()
	defer srv.Close()
	defer free() // before Close, which waits for the handlers
	var wg sync.WaitGroup
	results := make([]string, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := srv.Client().Transport.(*http.Transport).Clone()
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if err != nil {
				results[i] = err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = string(b)
		}()
	}
	// Wait until the three are in their requests (TLS handshakes under
	// -race on a loaded machine take a while).
	for deadline := time.Now().Add(20 * time.Second); inRequest.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 3 requests reached the handler", inRequest.Load())
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	if c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "example.com"}); err == nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a fourth TLS connection while three are busy was not refused: %v", err)
		}
	}
	free()
	wg.Wait()
	if strings.Join(results, ",") != "ok,ok,ok" {
		t.Fatalf("busy TLS requests: %q, want all ok (a busy connection was closed)", results)
	}
}
