//go:build !unix

package account

import "io/fs"

// access: permission bits say nothing about access where ACLs decide it.
func access(fs.FileInfo) (open, mine bool) { return false, false }
