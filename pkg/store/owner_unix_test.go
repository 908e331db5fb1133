//go:build unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFileRefusesAStoreOfAnotherUser: a store directory replaced by another
// user (through a parent directory that user owns) holds tokens of their
// choosing; reading them would have this user's mail go through their
// account. Root's and one's own are read. Changing a file's owner needs
// root, which the test environment has; elsewhere the test is skipped.
func TestFileRefusesAStoreOfAnotherUser(t *testing.T) {
	const other = 54321
	for _, which := range []string{"directory", "record"} {
		f := newTestFile(t, "")
		if err := f.Save("p", realisticRecord(1)); err != nil {
			t.Fatal(err)
		}
		target := f.Dir
		if which == "record" {
			target = filepath.Join(f.Dir, "p.record")
		}
		if err := os.Chown(target, other, other); err != nil {
			t.Skipf("cannot give a file to another user here: %v", err)
		}
		_, err := f.Load("p")
		var foe *ForeignOwnerError
		if !errors.As(err, &foe) || foe.Owner != other {
			t.Fatalf("%s of user %d: Load = %v, want a ForeignOwnerError", which, other, err)
		}
		msg := err.Error()
		for _, want := range []string{target, "another user (ID " + strconv.Itoa(other) + ")", "chown -R " + strconv.Itoa(os.Getuid()) + " " + f.Dir, "--store file"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", which, msg, want)
			}
		}
		// Given back, it is read again.
		if err := os.Chown(target, os.Getuid(), os.Getgid()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Load("p"); err != nil {
			t.Errorf("%s given back: %v", which, err)
		}
	}
}
