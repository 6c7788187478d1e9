package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// Profiling hooks for benchmarks, not a user-facing feature: when
// ORGSYNC_CPUPROFILE names a file, the whole process is CPU-profiled into
// it; ORGSYNC_MEMPROFILE gets a heap profile (allocations since start, and
// what is live) written as the process exits; ORGSYNC_TRACE gets an
// execution trace (go tool trace; -pprof=net, sync or syscall show what
// the process waited on).
const (
	cpuProfileVar = "ORGSYNC_CPUPROFILE"
	memProfileVar = "ORGSYNC_MEMPROFILE"
	traceVar      = "ORGSYNC_TRACE"
)

// startProfiles starts what the profiling variables ask for and returns
// the function that writes and closes the profiles.
func startProfiles(stderr io.Writer) (stop func()) {
	var stops []func()
	if path := os.Getenv(cpuProfileVar); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "orgsync: %s: %v\n", cpuProfileVar, err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv(traceVar); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "orgsync: %s: %v\n", traceVar, err)
		} else {
			stops = append(stops, func() { trace.Stop(); f.Close() })
		}
	}
	if path := os.Getenv(memProfileVar); path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			runtime.GC() // the profile is as of the last collection
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(stderr, "orgsync: %s: %v\n", memProfileVar, err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
