//go:build unix && !darwin

package main

import (
	"os"
	"syscall"
)

// maxRSSKB is the finished process's peak resident memory; getrusage
// reports it in kilobytes here.
func maxRSSKB(ps *os.ProcessState) int64 {
	return ps.SysUsage().(*syscall.Rusage).Maxrss
}
