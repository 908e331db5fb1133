package main

import (
	"os"
	"syscall"
)

// maxRSSKB is the finished process's peak resident memory; macOS's
// getrusage reports it in bytes, unlike Linux and the BSDs.
func maxRSSKB(ps *os.ProcessState) int64 {
	return ps.SysUsage().(*syscall.Rusage).Maxrss / 1024
}
