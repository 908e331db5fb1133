// Package statedir names the directories where ms365auth keeps state on
// this machine: the file store, pending sign-ins and lock files. It is the
// one place that applies the XDG base directory rules and their fallbacks,
// so that every part agrees on where things are. It reads the environment
// only through the getenv it is given.
package statedir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir is $XDG_STATE_HOME/ms365auth, else ~/.local/state/ms365auth, where
// ~ is $HOME, else the platform's home directory.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ms365auth"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("cannot find a state directory (set XDG_STATE_HOME): %w", err)
		}
	}
	return filepath.Join(home, ".local", "state", "ms365auth"), nil
}

// LockDir is where the per-profile lock files live: $XDG_RUNTIME_DIR/ms365auth
// when set (memory-backed and private to the user), else Dir/locks.
func LockDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ms365auth"), nil
	}
	dir, err := Dir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "locks"), nil
}
