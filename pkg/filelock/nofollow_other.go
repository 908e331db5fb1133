//go:build !unix

package filelock

// noFollow: no O_NOFOLLOW here.
const noFollow = 0
