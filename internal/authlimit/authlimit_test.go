package authlimit

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterWindows(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := New(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if _, blocked := l.Blocked("a"); blocked {
			t.Fatalf("blocked after %d failures, limit 3", i)
		}
		if n := l.Fail("a"); n != i+1 {
			t.Fatalf("Fail returned %d, want %d", n, i+1)
		}
		now = now.Add(10 * time.Second)
	}
	wait, blocked := l.Blocked("a")
	if !blocked || wait != 30*time.Second {
		t.Fatalf("after 3 failures in 30 s: blocked %v, wait %v; want true, 30s", blocked, wait)
	}
	if _, blocked := l.Blocked("b"); blocked {
		t.Fatal("another address is blocked")
	}
	now = now.Add(30 * time.Second) // the window is over
	if _, blocked := l.Blocked("a"); blocked {
		t.Fatal("still blocked after the window")
	}
	if n := l.Fail("a"); n != 1 { // a new window starts with one failure
		t.Fatalf("first failure of a new window counted %d", n)
	}
	if _, blocked := l.Blocked("a"); blocked {
		t.Fatal("one failure in a new window blocks")
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":      "2001:db8:1:2::/64",
		"fe80::1%eth0":            "fe80::/64",
		"invalid-forwarded-chain": "invalid-forwarded-chain",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLimiterIPv6By64: one host owns a whole /64, so failures from
// different addresses of it add up.
func TestLimiterIPv6By64(t *testing.T) {
	l := New(20, time.Minute, nil)
	for i := 1; i <= 20; i++ {
		l.Fail(fmt.Sprintf("2001:db8:7:7::%x", i))
	}
	if _, blocked := l.Blocked("2001:db8:7:7:ffff:ffff:ffff:ffff"); !blocked {
		t.Fatal("20 failures from one /64 do not block another address of it")
	}
	if _, blocked := l.Blocked("2001:db8:7:8::1"); blocked {
		t.Fatal("the next /64 is blocked too")
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := New(1, time.Minute, func() time.Time { return now })
	for i := 0; i < maxTracked+10; i++ {
		l.Fail(fmt.Sprint("addr-", i))
	}
	if n := len(l.seen); n > maxTracked {
		t.Fatalf("tracks %d addresses, bound %d", n, maxTracked)
	}
	if n := l.open.Len() + l.blocked.Len(); n != len(l.seen) {
		t.Fatalf("lists hold %d entries, map %d", n, len(l.seen))
	}
}

// TestLimiterFloodKeepsRefusedClients: failures from more new addresses
// than the limiter tracks, all within one window, must not free a client
// that is refused (it used to forget every address at once).
func TestLimiterFloodKeepsRefusedClients(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := New(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		l.Fail("198.51.100.9")
	}
	for i := 0; i < maxTracked+5000; i++ {
		l.Fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if i%1000 == 0 {
			now = now.Add(time.Millisecond)
		}
	}
	if _, blocked := l.Blocked("198.51.100.9"); !blocked {
		t.Fatal("a flood of new addresses made the limiter forget a refused client")
	}
	// The newest of the flood are still tracked.
	last := maxTracked + 4999
	if n := l.Fail(fmt.Sprintf("10.%d.%d.%d", last>>16&255, last>>8&255, last&255)); n != 2 {
		t.Fatalf("the newest address of the flood has %d failures counted, want 2", n)
	}
	if n := len(l.seen); n > maxTracked {
		t.Fatalf("tracks %d, bound %d", n, maxTracked)
	}
}
