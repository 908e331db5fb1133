//go:build !unix

package main

import "os"

// maxRSSKB is 0: this system's process usage has no peak memory field.
func maxRSSKB(*os.ProcessState) int64 { return 0 }
