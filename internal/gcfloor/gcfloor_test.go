package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name        string
		live, floor uint64
		want        int
	}{
		{"nothing live yet: the most the floor allows", 0, 32 * mib, 800},
		{"1 MiB live: capped by the minimum goal the percent scales", 1 * mib, 32 * mib, 800},
		{"8 MiB live: goal 32 MiB", 8 * mib, 32 * mib, 300},
		{"half the floor: the default", 16 * mib, 32 * mib, 100},
		{"large heap: the default", 900 * mib, 32 * mib, 100},
		{"floor below the runtime's minimum: the default", 1 * mib, 2 * mib, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percent(tc.live, tc.floor); got != tc.want {
				t.Fatalf("Percent(%d, %d) = %d, want %d", tc.live, tc.floor, got, tc.want)
			}
		})
	}
}

func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// waitPercent collects until the tuner has set want (it tunes from the
// finalizer goroutine, after a collection).
func waitPercent(t *testing.T, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for gogc() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GC percent %d, want %d", gogc(), want)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

var live []byte

// The percent follows the live heap from one collection to the next: the
// most the floor allows while little is live, the default once the live
// heap passes half the floor, and the default again after stop.
func TestStartFollowsTheLiveHeap(t *testing.T) {
	unsetenv(t, "GOGC")
	defer debug.SetGCPercent(100)
	runtime.GC()
	stop := Start(32 << 20)
	waitPercent(t, 800)
	live = make([]byte, 64<<20)
	waitPercent(t, 100)
	live = nil
	waitPercent(t, 800)
	stop()
	if p := gogc(); p != 100 {
		t.Fatalf("GC percent %d after stop, want 100", p)
	}
}

// GOGC in the environment is the operator's: Start leaves it.
func TestStartKeepsGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	debug.SetGCPercent(100)
	stop := Start(32 << 20)
	defer stop()
	runtime.GC()
	runtime.GC()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("GC percent %d with GOGC set, want 100", p)
	}
}
