package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startProfiles turns on the block and mutex profiles asked for; the
// function returned writes them and prints the GC cycles and pauses of
// the loads (client and server share this process).
func startProfiles(c config) (func(), error) {
	if c.blockProfile != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	}
	if c.mutexProfile != "" {
		runtime.SetMutexProfileFraction(5)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		fmt.Printf("GC during the loads (client and server): %d cycles, %s of stop-the-world pauses, %d MB allocated\n",
			after.NumGC-before.NumGC, time.Duration(after.PauseTotalNs-before.PauseTotalNs).Round(time.Microsecond),
			(after.TotalAlloc-before.TotalAlloc)>>20)
		for name, path := range map[string]string{"block": c.blockProfile, "mutex": c.mutexProfile} {
			if path == "" {
				continue
			}
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup(name).WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "scimload:", err)
			}
		}
	}, nil
}
