package profile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ms365auth", "config.json")
	c, err := Load(path)
	if err != nil || len(c.Profiles) != 0 {
		t.Fatalf("Load of a missing file: %v, %v", c, err)
	}
	c.Set(&Profile{Name: "work", ClientID: "id", Tenant: "common", Scopes: []string{"Mail.Read"}, Method: MethodAlt, Listen: "127.0.0.1:8080"})
	c.Set(&Profile{Name: "home", ClientID: "id2", Method: MethodPaste})
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode(), want, err)
		}
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c.Profiles, got.Profiles); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"home", "work"}, got.Names(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Names mismatch (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLoadRejectsBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{"profiles": [`), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load of broken JSON: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"default": true, "work.mail_2-x": true, "a": true,
		"": false, "-x": false, "a b": false, "a:b": false, "a#b": false, "../x": false, strings.Repeat("x", 65): false,
	} {
		if err := ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v", name, err)
		}
	}
}

func TestLoadRejectsUnsafeProfileNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{"profiles": {"../../x": {"client_id": "c"}}}`), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "invalid profile name") {
		t.Errorf("Load accepted an unsafe profile name: %v", err)
	}
}

// TestSaveKeepsASymlink: a settings file linked from elsewhere (dotfiles)
// is written through the link, which stays.
func TestSaveKeepsASymlink(t *testing.T) {
	real := filepath.Join(t.TempDir(), "dotfiles", "ms365auth.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(`{"profiles":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ms365auth", "config.json")
	os.MkdirAll(filepath.Dir(link), 0o700)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := Update(link, func(c *Config) { c.Set(&Profile{Name: "work", ClientID: "id"}) }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced (%v)", err)
	}
	if c, err := Load(real); err != nil || c.Get("work") == nil {
		t.Errorf("the link's target lacks the change: %v", err)
	}
}

func TestUpdateLockTimeoutSaysItOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	held := flock.New(path + ".lock")
	if err := held.Lock(); err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = 0 // gives up at once
	err := Update(path, func(*Config) {})
	if err == nil || strings.Count(err.Error(), "context deadline exceeded") != 1 {
		t.Errorf("Update with the lock held: %v", err)
	}
}

// TestUpdateRefusesASymlinkedLock: the settings lock is not opened through
// a link someone planted, which would choose the file created.
func TestUpdateRefusesASymlinkedLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	target := filepath.Join(t.TempDir(), "planted")
	if err := os.Symlink(target, path+".lock"); err != nil {
		t.Fatal(err)
	}
	err := Update(path, func(c *Config) {})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Update through a symlinked lock: %v", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target was created (%v)", err)
	}
}

// TestLoadMakesAnOpenFilePrivate: a settings file restored with cp or
// chmodded to 0644 is made 0600 again on the next read, with a warning, as
// the store files are.
func TestLoadMakesAnOpenFilePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits say nothing on Windows")
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"profiles":{"work":{"client_id":"id"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644) // whatever the umask
	c, err := Load(path)
	if err != nil || c.Get("work") == nil {
		t.Fatalf("Load: %v, %v", c, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o after Load, want 0600", fi.Mode().Perm())
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], path+" was open to other users (mode 0644) and is 0600 again") {
		t.Errorf("warnings %q", c.Warnings)
	}
	if c, _ := Load(path); len(c.Warnings) != 0 {
		t.Errorf("a private file warned: %q", c.Warnings)
	}
}

// TestSettingsTellWhatLoadPutRight: the warning of a settings file made
// private again reaches the person (Settings.Warn), once.
func TestSettingsTellWhatLoadPutRight(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"profiles":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var told []string
	s := SettingsAt(path)
	s.Warn = func(msg string) { told = append(told, msg) }
	for range 2 {
		if _, err := s.Load(); err != nil {
			t.Fatal(err)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "is 0600 again") {
		t.Errorf("warnings told: %q", told)
	}
}
