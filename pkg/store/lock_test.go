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
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, "p")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0)) // already over
	defer cancel()
	_, err = Lock(ctx, dir, "p")
	if err == nil || strings.Count(err.Error(), "context deadline exceeded") != 1 || !strings.Contains(err.Error(), "another ms365auth process") {
		t.Errorf("second lock: %v", err)
	}
}

func TestLockRefusesASymlink(t *testing.T) {
	run := t.TempDir()
	target := filepath.Join(t.TempDir(), "planted")
	if err := os.Symlink(target, filepath.Join(run, "p.lock")); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(context.Background(), run, "p")
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
