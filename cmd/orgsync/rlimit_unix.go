//go:build unix

package main

import "syscall"

// openFileLimit is the process's soft limit of open files (0: unknown).
// Go raises the soft limit to the hard one at start-up.
func openFileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
