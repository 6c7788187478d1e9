package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// defaultMinimum is the runtime's minimum heap goal at GOGC=100; it scales
// with the GC percent, which bounds the percent a floor can use.
const defaultMinimum = 4 << 20

// Percent is the GC percent that makes the goal after a collection that
// left live bytes at least floor (and not more, through the minimum goal
// that scales with the percent): 100 for live >= floor/2, and at most
// floor/4 MiB * 100.
func Percent(live, floor uint64) int {
	most := int(floor * 100 / defaultMinimum)
	if most <= 100 {
		return 100
	}
	if live == 0 {
		return most
	}
	p := int(floor*100/live) - 100
	return min(max(p, 100), most)
}

// Start keeps the heap goal at or above floor bytes until stop is called,
// unless $GOGC is set (then it does nothing).
func Start(floor uint64) (stop func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	t := &tuner{floor: floor, percent: 100}
	t.tune()
	t.arm()
	return func() {
		if t.stopped.CompareAndSwap(false, true) {
			debug.SetGCPercent(100)
		}
	}
}

type tuner struct {
	floor   uint64
	percent int
	stopped atomic.Bool
}

// sentinel is garbage from the moment it is made: its finalizer runs after
// the next collection, tunes, and arms a new one. It holds a pointer, so
// that the runtime allocates it on its own rather than batched with other
// tiny objects (whose finalizers may never run).
type sentinel struct{ t *tuner }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{t}, func(s *sentinel) {
		if s.t.stopped.Load() {
			return
		}
		s.t.tune()
		s.t.arm()
	})
}

// tune sets the percent for the live heap the last collection left. Only
// the finalizer goroutine calls it after Start.
func (t *tuner) tune() {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	if live[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := Percent(live[0].Value.Uint64(), t.floor)
	if p != t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
}
