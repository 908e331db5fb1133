package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testWorkFactor keeps encryption in tests fast; the format is the same.
const testWorkFactor = 10

func newTestFile(t *testing.T, passphrase string) *File {
	t.Helper()
	return &File{Dir: filepath.Join(t.TempDir(), "state", "ms365auth", "store"), Passphrase: passphrase, PassphraseFrom: EnvPassphrase, WorkFactor: testWorkFactor}
}

func TestFileRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, passphrase string
	}{
		{"plain", ""},
		{"encrypted", "correct horse battery staple"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFile(t, tc.passphrase)
			if _, err := f.Load("p"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load before Save: %v, want ErrNotFound", err)
			}
			want := realisticRecord(1)
			if err := f.Save("p", want); err != nil {
				t.Fatal(err)
			}
			got, err := f.Load("p")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
			const secret = "abc8Q~Fake.Client_Secret-Value.0123456789"
			if err := f.SaveSecret("p", secret); err != nil {
				t.Fatal(err)
			}
			if got, err := f.LoadSecret("p"); err != nil || got != secret {
				t.Errorf("LoadSecret = %d bytes, %v; want the saved secret", len(got), err)
			}

			checkModes(t, f.Dir, 2)
			for _, name := range []string{"p.record", "p.client-secret"} {
				data, err := os.ReadFile(filepath.Join(f.Dir, name))
				if err != nil {
					t.Fatal(err)
				}
				plain := bytes.Contains(data, []byte(want.AccessToken)) || bytes.Contains(data, []byte(want.RefreshToken)) || bytes.Contains(data, []byte(secret))
				if encrypted := tc.passphrase != ""; encrypted == plain || encrypted != bytes.HasPrefix(data, []byte(ageHeader)) {
					t.Errorf("%s: holds a secret in plain text: %t, age file: %t; want encrypted=%t", name, plain, !plain, encrypted)
				}
			}

			if err := f.Delete("p"); err != nil {
				t.Fatal(err)
			}
			if err := f.DeleteSecret("p"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Load("p"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load after Delete: %v, want ErrNotFound", err)
			}
			if err := f.Delete("p"); err != nil {
				t.Errorf("Delete when absent: %v", err)
			}
			if entries, _ := os.ReadDir(f.Dir); len(entries) != 0 {
				t.Errorf("files left after Delete: %v", entries)
			}
		})
	}
}

// checkModes checks the store directory is 0700 and holds n files, all 0600.
func checkModes(t *testing.T, dir string, n int) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Errorf("%d entries in the store directory, want %d: %v", len(entries), n, entries)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", e.Name(), info.Mode())
		}
	}
}

func TestFilePassphraseErrors(t *testing.T) {
	f := newTestFile(t, "the right one")
	if err := f.Save("p", realisticRecord(2)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, passphrase string
		want             []string
	}{
		{"no passphrase", "", []string{"encrypted", EnvPassphrase, EnvPassphraseFile}},
		{"wrong passphrase", "the wrong one", []string{"wrong passphrase", EnvPassphrase}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &File{Dir: f.Dir, Passphrase: tc.passphrase, PassphraseFrom: EnvPassphrase}
			_, err := g.Load("p")
			if !errors.Is(err, ErrPassphrase) {
				t.Fatalf("Load: %v, want ErrPassphrase", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), "the right one") || (tc.passphrase != "" && strings.Contains(err.Error(), tc.passphrase)) {
				t.Errorf("error holds a passphrase: %v", err)
			}
		})
	}
}

// A file written before a passphrase was set stays readable, and is
// encrypted on its next write.
func TestFilePlainThenEncrypted(t *testing.T) {
	plain := newTestFile(t, "")
	want := realisticRecord(3)
	if err := plain.Save("p", want); err != nil {
		t.Fatal(err)
	}
	enc := &File{Dir: plain.Dir, Passphrase: "now with one", WorkFactor: testWorkFactor}
	got, err := enc.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Save("p", got); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(plain.Dir, "p.record"))
	if !bytes.HasPrefix(data, []byte(ageHeader)) || bytes.Contains(data, []byte(want.AccessToken)) {
		t.Errorf("the record was not encrypted by its next write")
	}
}

func TestFileCorrupt(t *testing.T) {
	f := newTestFile(t, "pass")
	if err := f.Save("p", realisticRecord(4)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.Dir, "p.record")
	data, _ := os.ReadFile(path)
	for name, content := range map[string][]byte{
		"truncated age file": data[:len(data)-20],
		"altered age file":   append(append([]byte{}, data[:len(data)-1]...), data[len(data)-1]^1),
		"not JSON":           []byte("{\"access_token\": secret-looking-bytes"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := f.Load("p")
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load: %v, want ErrCorrupt", err)
			}
			if strings.Contains(err.Error(), "secret-looking") {
				t.Errorf("the error quotes stored bytes: %v", err)
			}
		})
	}
}

func TestNewFile(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(passFile, []byte("from a file\nsecond line ignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		env        map[string]string
		dir, pass  string
		wantErr    string
		passSource string
	}{
		{"XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/ms365auth/store", "", "", ""},
		{"HOME", map[string]string{"HOME": "/h"}, "/h/.local/state/ms365auth/store", "", "", ""},
		{"passphrase", map[string]string{"HOME": "/h", EnvPassphrase: "p w"}, "/h/.local/state/ms365auth/store", "p w", "", EnvPassphrase},
		{"passphrase file", map[string]string{"HOME": "/h", EnvPassphraseFile: passFile}, "/h/.local/state/ms365auth/store", "from a file", "", EnvPassphraseFile},
		{"both", map[string]string{"HOME": "/h", EnvPassphrase: "x", EnvPassphraseFile: passFile}, "", "", "set only one", ""},
		{"empty passphrase file", map[string]string{"HOME": "/h", EnvPassphraseFile: emptyFile}, "", "", "is empty", ""},
		{"missing passphrase file", map[string]string{"HOME": "/h", EnvPassphraseFile: filepath.Join(dir, "nope")}, "", "", EnvPassphraseFile, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFile(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewFile: %v, want an error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Dir != tc.dir || f.Passphrase != tc.pass || !strings.Contains(f.PassphraseFrom, tc.passSource) {
				t.Errorf("NewFile = dir %q, passphrase set %t from %q; want %q, %t from %q", f.Dir, f.Passphrase != "", f.PassphraseFrom, tc.dir, tc.pass != "", tc.passSource)
			}
		})
	}
}

func TestFileProbe(t *testing.T) {
	f := newTestFile(t, "")
	if err := f.Probe(); err != nil {
		t.Fatal(err)
	}
	checkModes(t, f.Dir, 0)

	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := &File{Dir: filepath.Join(notADir, "store")}
	if err := bad.Probe(); err == nil {
		t.Errorf("Probe of a directory that cannot exist succeeded")
	}
}

// An existing directory with looser permissions is made private.
func TestFileTightensDirectory(t *testing.T) {
	f := newTestFile(t, "")
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.Save("p", realisticRecord(5)); err != nil {
		t.Fatal(err)
	}
	checkModes(t, f.Dir, 1)
}

// Temporary files a killed writer left go with the next write, once old.
func TestFileSweepsStaleTemporaries(t *testing.T) {
	f := newTestFile(t, "")
	if err := f.Save("p", realisticRecord(6)); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(f.Dir, ".p.record.123.tmp")
	fresh := filepath.Join(f.Dir, ".p.record.456.tmp")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := f.Save("p", realisticRecord(7)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file of a write that may be in progress was removed: %v", err)
	}
}

func TestFileRefusesPathNames(t *testing.T) {
	f := newTestFile(t, "")
	for _, name := range []string{"", "..", "a/b", `a\b`, "a:b", "a#b"} {
		if err := f.Save(name, realisticRecord(8)); err == nil {
			t.Errorf("Save(%q) succeeded", name)
		}
	}
}

// BenchmarkFileLoad measures a token read from the file store: plain, and
// encrypted at several scrypt work factors (DefaultWorkFactor is chosen
// from these numbers).
func BenchmarkFileLoad(b *testing.B) {
	for _, wf := range []int{0, 12, 14, DefaultWorkFactor, 16, 18} {
		name, pass := "plain", ""
		if wf > 0 {
			name, pass = fmt.Sprintf("scrypt=%d", wf), "benchmark passphrase"
		}
		b.Run(name, func(b *testing.B) {
			f := &File{Dir: b.TempDir(), Passphrase: pass, WorkFactor: wf}
			if err := f.Save("bench", realisticRecord(9)); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := f.Load("bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFileMakesOpenFilesPrivateOnRead: a record or client secret left 0644
// (chmod, a restore with cp) is made 0600 on the next read, and said so.
func TestFileMakesOpenFilesPrivateOnRead(t *testing.T) {
	f := newTestFile(t, "")
	var warnings []string
	f.Warn = func(msg string) { warnings = append(warnings, msg) }
	if err := f.Save("p", realisticRecord(1)); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveSecret("p", "abc8Q~Fake.Client_Secret-Value.0123456789"); err != nil {
		t.Fatal(err)
	}
	record, secret := filepath.Join(f.Dir, "p.record"), filepath.Join(f.Dir, "p.client-secret")
	for _, p := range []string{record, secret} {
		os.Chmod(p, 0o644)
	}
	os.Chmod(f.Dir, 0o755)
	if got := f.OpenToOthers("p"); len(got) != 3 {
		t.Errorf("OpenToOthers = %q, want the directory and both files", got)
	}
	if _, err := f.Load("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.LoadSecret("p"); err != nil {
		t.Fatal(err)
	}
	checkModes(t, f.Dir, 2)
	if len(warnings) != 3 || !strings.Contains(strings.Join(warnings, "\n"), record+" was open to other users (mode 0644)") {
		t.Errorf("warnings: %q", warnings)
	}
	if got := f.OpenToOthers("p"); len(got) != 0 {
		t.Errorf("still open: %q", got)
	}
}
