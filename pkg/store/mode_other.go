//go:build !unix

package store

import "io/fs"

// access: permission bits say nothing about access where ACLs decide it.
func access(fs.FileInfo) (open, mine bool) { return false, false }

// foreignOwner: ownership is an ACL matter there, not checked.
func foreignOwner(fs.FileInfo) (uid int, foreign bool) { return 0, false }
