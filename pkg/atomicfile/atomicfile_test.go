package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "secret.json")
	for _, content := range []string{"first", "second, longer than the first"} {
		if err := WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A write that fails at the rename leaves no temporary file behind.
func TestWriteFileFailureLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.json")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A directory in the way of the rename makes the write fail late.
	target := filepath.Join(dir, "blocked")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(target, "x"), nil, 0o600)
	if err := WriteFile(target, []byte("new")); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestReadPrivateMakesAnOpenFilePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("ACLs, not permission bits, decide access on Windows")
	}
	path := filepath.Join(t.TempDir(), "pending.json")
	if err := os.WriteFile(path, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, warning, err := ReadPrivate(path)
	if err != nil || string(data) != "secret" || !strings.Contains(warning, "was open to other users (mode 0644) and is 0600 again") {
		t.Fatalf("ReadPrivate = %q, %q, %v", data, warning, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after reading, want 0600", fi.Mode().Perm())
	}
	if _, warning, _ := ReadPrivate(path); warning != "" {
		t.Errorf("a private file warned: %q", warning)
	}
}
