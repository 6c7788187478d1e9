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
	for _, st := range []struct {
		env   string
		start func(io.Writer) error
		end   func()
	}{
		{cpuProfileVar, pprof.StartCPUProfile, pprof.StopCPUProfile},
		{traceVar, trace.Start, trace.Stop},
	} {
		if stop := streamTo(stderr, st.env, st.start, st.end); stop != nil {
			stops = append(stops, stop)
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

// streamTo starts start writing to the file the variable env names, and
// returns what ends it and closes the file: nil when env is unset, or when
// the file or the stream cannot start (said on stderr).
func streamTo(stderr io.Writer, env string, start func(io.Writer) error, end func()) func() {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "orgsync: %s: %v\n", env, err)
		return nil
	}
	return func() { end(); f.Close() }
}
