//go:build !unix

package atomicfile

// NoFollow: no O_NOFOLLOW here.
const NoFollow = 0
