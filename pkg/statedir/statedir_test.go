package statedir

import (
	"path/filepath"
	"testing"
)

func TestDirs(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name      string
		env       map[string]string
		dir, lock string
	}{
		{"XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/ms365auth", "/s/ms365auth/locks"},
		{"HOME", map[string]string{"HOME": "/h"}, "/h/.local/state/ms365auth", "/h/.local/state/ms365auth/locks"},
		{"XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": "/r", "HOME": "/h"}, "/h/.local/state/ms365auth", "/r/ms365auth"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, err := Dir(env(c.env))
			if err != nil || dir != filepath.FromSlash(c.dir) {
				t.Errorf("Dir = %q, %v; want %q", dir, err, c.dir)
			}
			lock, err := LockDir(env(c.env))
			if err != nil || lock != filepath.FromSlash(c.lock) {
				t.Errorf("LockDir = %q, %v; want %q", lock, err, c.lock)
			}
		})
	}
}
