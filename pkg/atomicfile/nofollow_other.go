//go:build !unix

package atomicfile

// noFollow: no O_NOFOLLOW here.
const noFollow = 0
