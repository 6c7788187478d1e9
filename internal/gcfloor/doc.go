// Package gcfloor gives the Go garbage collector of a long-running server a
// floor under its heap goal. With the runtime's defaults (GOGC=100, a 4 MiB
// minimum goal) a server whose live heap is a megabyte collects every few
// megabytes allocated: orgsync serve answering SCIM lookups collected about
// 45 times a second at 5,500 lookups/s, each cycle two stop-the-world
// pauses and a mark phase taking a quarter of the CPUs, which is where the
// lookups' p99 went (issue 16).
//
// Start re-tunes the GC percent after every collection so that the next
// goal is at least the floor while the live heap is small, and is the
// default doubling (GOGC=100) once the live heap reaches half the floor:
// a small heap costs at most the floor in memory, a large one exactly what
// it costs without this package. It does nothing when GOGC is set in the
// environment: the operator's choice stands.
package gcfloor
