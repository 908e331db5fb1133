package cli_test

// End-to-end tests of where tokens are kept: the keyring found without a
// bus address (cron, SSH), no keyring at all, the file store (plain and
// encrypted), and moving a profile between stores.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// noBusBudget is how long link, status and token may take to fail when
// there is no keyring at all (the bound).
const noBusBudget = 5 * time.Second

// envValue is what a child started with env sees for key (the last
// assignment wins, as in os/exec).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// home is the harness's private home: config/ and state/ live there.
func (h *harness) home() string { return filepath.Dir(h.cfg) }

// fileStore is the file store the harness's commands use.
func (h *harness) fileStore(t *testing.T) *store.File {
	t.Helper()
	f, err := store.NewFile(func(k string) string { return envValue(h.env, k) })
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// useFileStore has the harness's commands keep their tokens in the file
// store, encrypted with passphrase ("" for plain files), whatever the
// environment the tests run in says about a passphrase.
func (h *harness) useFileStore(passphrase string) {
	h.env = append(h.env, "MS365AUTH_STORE=file", store.EnvPassphrase+"="+passphrase, store.EnvPassphraseFile+"=")
}

// withoutBus takes the session bus away from the harness's commands:
// no DBUS_SESSION_BUS_ADDRESS and an XDG_RUNTIME_DIR without a bus. Tests
// using it skip where this machine's own user bus would be found.
func (h *harness) withoutBus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
		t.Skip("this machine has a user bus at /run/user/UID/bus, which ms365auth would find")
	}
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR="+t.TempDir())
}

// runBounded runs the binary like run, but kills it and fails the test
// when it has not finished within limit.
func (h *harness) runBounded(t *testing.T, limit time.Duration, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish within %s:\n%s", args, limit, errb.String())
	}
	t.Logf("%v took %s", args, time.Since(start).Round(time.Millisecond))
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	r := result{code, out.String(), errb.String()}
	h.suggestionsOf(args, h.env, r, nil)
	return r
}

func TestKeyringFoundWithoutBusAddress(t *testing.T) {
	s := keyringtest.Require(t)
	h := newHarness(t)
	// As in cron or SSH: no bus address, but the user's bus is at
	// $XDG_RUNTIME_DIR/bus.
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR="+filepath.Join(s.Dir, "run"))

	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	rec := loadRecord(t, "default")
	if r := h.run("", "token"); r.code != 0 || r.stdout != rec.AccessToken+"\n" {
		t.Fatalf("token exit %d:\n%s", r.code, r.stderr)
	}
	if st, r := h.status(); r.code != 0 || st["state"] != "valid" || st["store"] != "keyring" {
		t.Errorf("status exit %d: %v", r.code, st)
	}
	if r := h.run("", "reauth", "--non-interactive"); r.code != 0 {
		t.Errorf("reauth exit %d:\n%s", r.code, r.stderr)
	}
	if after := loadRecord(t, "default"); after.RefreshToken == rec.RefreshToken {
		t.Errorf("reauth did not store a rotated refresh token")
	}
	if r := h.run("", "logout"); r.code != 0 {
		t.Errorf("logout exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := store.NewKeyring().Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after logout: %v, want ErrNotFound", err)
	}
}

// busProcesses lists the processes that a D-Bus client launching a bus
// would leave (dbus-launch, dbus-daemon and gnome-keyring-daemon, its name
// cut to 15 bytes by the kernel) that inherited marker, an environment
// entry only the commands under test have: the buses that other tests
// running at the same time start are not theirs.
func busProcesses(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...
		open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || close < open {
			continue
		}
		comm := string(stat[open+1 : close])
		fields := strings.Fields(string(stat[close+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		if ppid == os.Getpid() || !slices.Contains([]string{"dbus-launch", "dbus-daemon", "gnome-keyring-d"}, comm) {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !slices.Contains(strings.Split(string(environ), "\x00"), marker) {
			continue // not started by the commands under test
		}
		found = append(found, fmt.Sprintf("%d %s", pid, comm))
	}
	slices.Sort(found)
	return found
}

// filesHolding lists the files under dirs that contain any of secrets.
func filesHolding(t *testing.T, secrets []string, dirs ...string) []string {
	t.Helper()
	var found []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if s != "" && bytes.Contains(data, []byte(s)) {
					found = append(found, path)
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

func TestNoBusFailsFast(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	rec := loadRecord(t, "default")
	h.withoutBus(t)
	// A dbus-launch that leaves a mark, as if dbus-x11 were installed:
	// no client may run it.
	bin := t.TempDir()
	launched := filepath.Join(t.TempDir(), "dbus-launch-ran")
	script := "#!/bin/sh\ntouch " + launched + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	h.env = append(h.env, "PATH="+bin+":"+os.Getenv("PATH"))

	for _, args := range [][]string{
		{"link", "--no-browser", "--client-id", testClientID},
		{"status"},
		{"status", "--json"},
		{"token"},
		{"token", "--margin", "2h"},
		{"reauth", "--non-interactive"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.runBounded(t, noBusBudget, "", args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, want := range []string{"no D-Bus session bus", "DBUS_SESSION_BUS_ADDRESS", "--store file", "MS365AUTH_STORE=file"} {
				if !strings.Contains(r.all(), want) {
					t.Errorf("output lacks %q:\n%s%s", want, r.stdout, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "/oauth2/v2.0/authorize?") {
				t.Errorf("a sign-in started although the tokens could not be kept")
			}
			assertNoTokens(t, rec, r.all())
		})
	}

	if _, err := os.Stat(launched); err == nil {
		t.Errorf("dbus-launch was run")
	}
	if started := busProcesses(t, "XDG_RUNTIME_DIR="+envValue(h.env, "XDG_RUNTIME_DIR")); len(started) != 0 {
		t.Errorf("the commands left bus processes: %q", started)
	}
	if files := filesHolding(t, h.srv.IssuedSecrets(), h.home(), envValue(h.env, "XDG_RUNTIME_DIR")); len(files) != 0 {
		t.Errorf("files hold tokens: %q", files)
	}

	// The remedy works: linking again into the file store needs no bus,
	// and says that the keyring's copy is still there.
	r := h.link(h.signIn, "--store", "file")
	if r.code != 0 || !strings.Contains(r.stderr, "could not be removed from the keyring store") {
		t.Errorf("link --store file: exit %d:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["store"] != "file" || st["state"] != "valid" {
		t.Errorf("status after link --store file: %v", st)
	}
}

// checkFileModes checks the file store's directory is 0700 and its files
// 0600, and returns their names.
func checkFileModes(t *testing.T, dir string) []string {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", dir, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", e.Name(), info.Mode())
		}
		names = append(names, e.Name())
	}
	return names
}

// The file store needs no keyring: the whole cycle runs without a bus.
func TestFileStoreCycle(t *testing.T) {
	h := newHarness(t)
	h.withoutBus(t)
	h.useFileStore("")
	f := h.fileStore(t)

	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff([]string{"default.record"}, checkFileModes(t, f.Dir)); diff != "" {
		t.Errorf("store files mismatch (-want +got):\n%s", diff)
	}
	if st, r := h.status(); r.code != 0 || st["store"] != "file" || st["state"] != "valid" {
		t.Errorf("status exit %d: %v", r.code, st)
	}
	linked, err := f.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	if r := h.run("", "token"); r.code != 0 || r.stdout != linked.AccessToken+"\n" {
		t.Fatalf("token exit %d:\n%s", r.code, r.stderr)
	}
	// Renewing writes the file again.
	dueForRenewal(t, f)
	r := h.run("", "token", "--margin", "2h")
	refreshed, err := f.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || r.stdout != refreshed.AccessToken+"\n" || refreshed.AccessToken == linked.AccessToken {
		t.Fatalf("token --margin 2h exit %d, renewed %t:\n%s", r.code, refreshed.AccessToken != linked.AccessToken, r.stderr)
	}
	if r := h.run("", "reauth", "--non-interactive"); r.code != 0 {
		t.Fatalf("reauth exit %d:\n%s", r.code, r.stderr)
	}
	if rec, err := f.Load("default"); err != nil || rec.RefreshToken == refreshed.RefreshToken {
		t.Errorf("reauth did not store a rotated refresh token (%v)", err)
	}
	checkFileModes(t, f.Dir)
	if _, err := store.NewKeyring().Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the keyring holds the profile: %v", err)
	}

	if r := h.run("", "logout"); r.code != 0 {
		t.Fatalf("logout exit %d:\n%s", r.code, r.stderr)
	}
	if names := checkFileModes(t, f.Dir); len(names) != 0 {
		t.Errorf("files left after logout: %q", names)
	}
}

func TestFileStoreEncrypted(t *testing.T) {
	const passphrase = "tulip anvilorbit seventeen"
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) []string
	}{
		{"passphrase in the environment", func(t *testing.T) []string {
			return []string{store.EnvPassphrase + "=" + passphrase, store.EnvPassphraseFile + "="}
		}},
		{"passphrase in a file", func(t *testing.T) []string {
			path := filepath.Join(t.TempDir(), "passphrase")
			if err := os.WriteFile(path, []byte(passphrase+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{store.EnvPassphrase + "=", store.EnvPassphraseFile + "=" + path}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.env = append(h.env, "MS365AUTH_STORE=file")
			h.env = append(h.env, tc.env(t)...)
			f := h.fileStore(t)

			link := h.link(h.signIn, "--client-id", testClientID)
			if link.code != 0 {
				t.Fatalf("link exit %d:\n%s", link.code, link.stderr)
			}
			first := h.run("", "token")
			dueForRenewal(t, f)
			renewed := h.run("", "token", "--margin", "2h")
			reauth := h.run("", "reauth", "--non-interactive")
			for _, r := range []result{first, renewed, reauth} {
				if r.code != 0 {
					t.Fatalf("exit %d:\n%s", r.code, r.stderr)
				}
			}
			rec, err := f.Load("default")
			if err != nil {
				t.Fatal(err)
			}
			if first.stdout == renewed.stdout {
				t.Errorf("token --margin 2h did not renew")
			}
			for _, name := range checkFileModes(t, f.Dir) {
				data, _ := os.ReadFile(filepath.Join(f.Dir, name))
				if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) {
					t.Errorf("%s is not an age file", name)
				}
			}
			secrets := append(h.srv.IssuedSecrets(), rec.AccessToken, rec.RefreshToken,
				strings.TrimSpace(first.stdout), strings.TrimSpace(renewed.stdout), passphrase)
			if files := filesHolding(t, secrets, h.home()); len(files) != 0 {
				t.Errorf("files hold a token or the passphrase in plain text: %q", files)
			}

			wrong := slices.Concat(h.env, []string{store.EnvPassphrase + "=not the passphrase", store.EnvPassphraseFile + "="})
			none := slices.Concat(h.env, []string{store.EnvPassphrase + "=", store.EnvPassphraseFile + "="})
			for _, c := range []struct {
				name string
				env  []string
				want []string
			}{
				{"wrong passphrase", wrong, []string{"wrong passphrase", store.EnvPassphrase}},
				{"no passphrase", none, []string{"encrypted", store.EnvPassphrase, store.EnvPassphraseFile}},
			} {
				h2 := *h
				h2.env = c.env
				for _, args := range [][]string{{"token"}, {"status"}} {
					r := h2.run("", args...)
					if r.code != 1 {
						t.Errorf("%s: %v exit %d, want 1", c.name, args, r.code)
					}
					for _, w := range c.want {
						if !strings.Contains(r.all(), w) {
							t.Errorf("%s: %v output lacks %q:\n%s%s", c.name, args, w, r.stdout, r.stderr)
						}
					}
					assertNoTokens(t, rec, r.all())
				}
			}
		})
	}
}

func TestStoreMove(t *testing.T) {
	h := newHarness(t)
	h.env = append(h.env, store.EnvPassphrase+"=move me safely", store.EnvPassphraseFile+"=")
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	f := h.fileStore(t)
	signIns := h.srv.Stats().AuthorizeRequests
	original := loadRecord(t, "default")

	// Asking for the file store while the profile is in the keyring is an
	// error that says how to move, not an empty store.
	h2 := *h
	h2.env = slices.Concat(h.env, []string{"MS365AUTH_STORE=file"})
	if r := h2.run("", "token"); r.code != 1 || !strings.Contains(r.stderr, "store move --to file") {
		t.Errorf("token with MS365AUTH_STORE=file: exit %d:\n%s", r.code, r.stderr)
	}

	// A move that cannot write its target changes nothing.
	blocked := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h3 := *h
	h3.env = slices.Concat(h.env, []string{"XDG_STATE_HOME=" + blocked})
	if r := h3.run("", "store", "move", "--to", "file"); r.code != 1 || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("move to an unwritable file store: exit %d:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["store"] != "keyring" || st["state"] != "valid" {
		t.Errorf("after a failed move, status: %v", st)
	}

	// keyring → file
	if r := h.run("", "store", "move", "--to", "file"); r.code != 0 {
		t.Fatalf("store move --to file: exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := store.NewKeyring().Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the keyring still holds the profile: %v", err)
	}
	moved, err := f.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(original, moved); diff != "" {
		t.Errorf("moved record mismatch (-want +got):\n%s", diff)
	}
	if st, _ := h.status(); st["store"] != "file" || st["state"] != "valid" {
		t.Errorf("status after the move: %v", st)
	}
	if r := h.run("", "token"); r.code != 0 || r.stdout != original.AccessToken+"\n" {
		t.Errorf("token from the file store: exit %d:\n%s", r.code, r.stderr)
	}
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Errorf("renewing from the file store: exit %d:\n%s", r.code, r.stderr)
	}
	if files := filesHolding(t, h.srv.IssuedSecrets(), h.home()); len(files) != 0 {
		t.Errorf("files hold tokens in plain text: %q", files)
	}
	renewed, err := f.Load("default")
	if err != nil {
		t.Fatal(err)
	}

	// file → keyring
	if r := h.run("", "store", "move", "--to", "keyring"); r.code != 0 {
		t.Fatalf("store move --to keyring: exit %d:\n%s", r.code, r.stderr)
	}
	if names := checkFileModes(t, f.Dir); len(names) != 0 {
		t.Errorf("files left in the file store: %q", names)
	}
	if diff := cmp.Diff(renewed, loadRecord(t, "default")); diff != "" {
		t.Errorf("record moved back mismatch (-want +got):\n%s", diff)
	}
	if r := h.run("", "token"); r.code != 0 || r.stdout != renewed.AccessToken+"\n" {
		t.Errorf("token after moving back: exit %d:\n%s", r.code, r.stderr)
	}
	if r := h.run("", "store", "move", "--to", "keyring"); r.code != 0 || !strings.Contains(r.stderr, "already") {
		t.Errorf("moving to the store it is in: exit %d:\n%s", r.code, r.stderr)
	}
	if n := h.srv.Stats().AuthorizeRequests; n != signIns {
		t.Errorf("%d sign-ins during the moves, want none", n-signIns)
	}
}

// Linking again with --store moves the profile: the new store gets the
// tokens and the old one loses them.
func TestLinkStoreFlagSwitches(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	if r := h.link(h.signIn, "--store", "file"); r.code != 0 {
		t.Fatalf("link --store file exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := store.NewKeyring().Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the keyring still holds the profile: %v", err)
	}
	if st, _ := h.status(); st["store"] != "file" || st["state"] != "valid" {
		t.Errorf("status: %v", st)
	}
	// Remembered: a later link without --store stays in the file store.
	if r := h.link(h.signIn); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["store"] != "file" {
		t.Errorf("status: %v", st)
	}
	if r := h.run("", "link", "--store", "floppy"); r.code != 1 || !strings.Contains(r.stderr, `unknown store "floppy"`) {
		t.Errorf("link --store floppy: exit %d:\n%s", r.code, r.stderr)
	}
}

// copyProfile adds profiles with the settings of "default" (as if linked
// with the same app), without tokens.
func (h *harness) copyProfile(t *testing.T, names ...string) {
	t.Helper()
	cfg, err := profile.Load(filepath.Join(h.cfg, "ms365auth", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	def := cfg.Get("default")
	if def == nil {
		t.Fatal("no default profile to copy")
	}
	for _, name := range names {
		p := *def
		p.Name = name
		cfg.Set(&p)
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
}

// A keyring that is there but unusable fails every command quickly, with
// the cause and the file-store remedy; a hung one costs one timeout per
// command, not one per profile.
func TestUnusableKeyringFailsFast(t *testing.T) {
	keyringtest.Require(t)
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	rec := loadRecord(t, "default")
	h.copyProfile(t, "second", "third")

	start := func(t *testing.T, bare, lock, hang bool) []string {
		var s *keyringtest.Session
		var err error
		if bare {
			s, err = keyringtest.StartBareBus()
		} else {
			s, err = keyringtest.Start()
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		switch {
		case lock:
			err = s.Lock()
		case hang:
			err = freeze(s.KeyringDaemon())
		}
		if err != nil {
			t.Fatal(err)
		}
		return s.Env()
	}
	for _, tc := range []struct {
		name             string
		bare, lock, hang bool
		cause            string
		commands         [][]string
	}{
		{"no Secret Service", true, false, false, "no Secret Service", [][]string{{"link", "--no-browser"}, {"status", "--all"}, {"token"}}},
		{"locked", false, true, false, "locked", [][]string{{"link", "--no-browser"}, {"status", "--all"}, {"token"}}},
		{"hung", false, false, true, "did not answer", [][]string{{"status", "--all"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h2 := *h
			h2.env = slices.Concat(h.env, start(t, tc.bare, tc.lock, tc.hang))
			for _, args := range tc.commands {
				r := h2.runBounded(t, noBusBudget, "", args...)
				if r.code != 1 {
					t.Errorf("%v: exit %d, want 1", args, r.code)
				}
				for _, want := range []string{tc.cause, "MS365AUTH_STORE=file"} {
					if !strings.Contains(r.all(), want) {
						t.Errorf("%v: output lacks %q:\n%s%s", args, want, r.stdout, r.stderr)
					}
				}
				assertNoTokens(t, rec, r.all())
			}
		})
	}
}
