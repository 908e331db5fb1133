//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockTimeoutSaysItOnce(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	unlock, err := Lock(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0)) // already over
	defer cancel()
	_, err = Lock(ctx, "p")
	if err == nil || strings.Count(err.Error(), "context deadline exceeded") != 1 || !strings.Contains(err.Error(), "another ms365auth process") {
		t.Errorf("second lock: %v", err)
	}
}

func TestLockRefusesASymlink(t *testing.T) {
	run := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", run)
	target := filepath.Join(t.TempDir(), "planted")
	if err := os.MkdirAll(filepath.Join(run, "ms365auth"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(run, "ms365auth", "p.lock")); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(context.Background(), "p")
	if err == nil {
		unlock()
		t.Fatal("locked through a symbolic link")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error: %v", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target was created (%v)", err)
	}
}
