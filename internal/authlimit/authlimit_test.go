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
		l.Fail("a")
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
	l.Fail("a") // a new window starts with one failure
	if _, blocked := l.Blocked("a"); blocked {
		t.Fatal("one failure in a new window blocks")
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
}
