//go:build linux

package store

// Tests against a real Secret Service: gnome-keyring-daemon on a private
// D-Bus, started by keyringtest.Main, driven by the real go-keyring.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
)

func TestRealRoundTrip(t *testing.T) {
	keyringtest.Require(t)
	for _, tc := range []struct {
		name string
		max  int
	}{
		{"one item", 0},
		{"split as on Windows", WindowsMaxItemSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := NewKeyring()
			k.MaxItemSize = tc.max
			profile := "roundtrip-" + fmt.Sprint(tc.max)
			want := realisticRecord(11)
			if err := k.Save(profile, want); err != nil {
				t.Fatal(err)
			}
			got, err := k.Load(profile)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
			want2 := realisticRecord(12)
			if err := k.Save(profile, want2); err != nil {
				t.Fatal(err)
			}
			if got, err = k.Load(profile); err != nil {
				t.Fatal(err)
			} else if diff := cmp.Diff(want2, got); diff != "" {
				t.Errorf("Load after overwrite mismatch (-want +got):\n%s", diff)
			}
			if err := k.Delete(profile); err != nil {
				t.Fatal(err)
			}
			if _, err := k.Load(profile); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load after Delete: %v, want ErrNotFound", err)
			}
			if err := k.Delete(profile); err != nil {
				t.Errorf("Delete when absent: %v", err)
			}
			if users := secretToolUsers(t); len(users) != 0 {
				t.Errorf("items left in the keyring: %q", users)
			}
		})
	}
}

func TestRealSecret(t *testing.T) {
	keyringtest.Require(t)
	k := NewKeyring()
	const secret = "abc8Q~Fake.Client_Secret-Value.0123456789"
	if _, err := k.LoadSecret("sec"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadSecret before save: %v, want ErrNotFound", err)
	}
	if err := k.SaveSecret("sec", secret); err != nil {
		t.Fatal(err)
	}
	if got, err := k.LoadSecret("sec"); err != nil || got != secret {
		t.Errorf("LoadSecret = %d bytes, %v; want the saved secret", len(got), err)
	}
	if err := k.DeleteSecret("sec"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.LoadSecret("sec"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadSecret after delete: %v, want ErrNotFound", err)
	}
}

// secretTool runs secret-tool, a client nobody here wrote, against the
// session keyring, and returns its stdout and stderr (where `search` prints
// the attributes).
func secretTool(t *testing.T, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("secret-tool not installed; install with:", keyringtest.InstallCommand)
	}
	cmd := exec.Command("secret-tool", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("secret-tool %s: %v\n%s", args[0], err, errb.String())
	}
	return string(out), errb.String()
}

// secretToolUsers lists the username attribute of every item of the
// service, as secret-tool sees them.
func secretToolUsers(t *testing.T) []string {
	t.Helper()
	var users []string
	_, attrs := secretTool(t, "", "search", "--all", "service", ServiceName)
	for _, line := range strings.Split(attrs, "\n") {
		if u, ok := strings.CutPrefix(line, "attribute.username = "); ok {
			users = append(users, u)
		}
	}
	return users
}

func TestSecretToolSeesSavedRecord(t *testing.T) {
	keyringtest.Require(t)
	k := NewKeyring()
	want := realisticRecord(21)
	if err := k.Save("xcheck", want); err != nil {
		t.Fatal(err)
	}
	defer k.Delete("xcheck")

	out, attrs := secretTool(t, "", "search", "--all", "service", ServiceName)
	search := out + attrs
	for _, line := range []string{
		"label = ms365auth tokens for profile xcheck",
		"attribute.username = xcheck",
		"attribute.service = ms365auth",
	} {
		if !strings.Contains(search, line+"\n") {
			t.Errorf("secret-tool search output lacks %q", line)
		}
	}
	var got Record
	value, _ := secretTool(t, "", "lookup", "service", ServiceName, "username", "xcheck")
	if err := json.Unmarshal([]byte(value), &got); err != nil {
		t.Fatalf("secret-tool lookup did not return JSON: %v", err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("record via secret-tool mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadReadsItemStoredBySecretTool(t *testing.T) {
	keyringtest.Require(t)
	k := NewKeyring()
	want := realisticRecord(31)
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	secretTool(t, string(b), "store", "--label=x", "service", ServiceName, "username", "fromtool")
	defer k.Delete("fromtool")
	got, err := k.Load("fromtool")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}

	secretTool(t, "not a record", "store", "--label=x", "service", ServiceName, "username", "fromtool")
	if _, err := k.Load("fromtool"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of a non-JSON item: %v, want ErrCorrupt", err)
	}
}

func TestProbeReachable(t *testing.T) {
	keyringtest.Require(t)
	if err := NewKeyring().Probe(); err != nil {
		t.Fatal(err)
	}
}

// Each case runs the test binary as a fresh client process (godbus keeps
// one session-bus connection per process, so the environment must be fresh
// too) in a real broken environment.
func TestUnavailableEnvironments(t *testing.T) {
	keyringtest.Require(t)

	bare, err := keyringtest.StartBareBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bare.Close() })
	locked, err := keyringtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locked.Close() })
	if err := locked.Lock(); err != nil {
		t.Fatal(err)
	}
	hung, err := keyringtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() }) // SIGKILL also ends a stopped process
	if err := hung.KeyringDaemon().Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	healthy, err := keyringtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { healthy.Close() })

	empty := t.TempDir()
	// A dbus-launch that leaves a mark, as if dbus-x11 were installed.
	fakeBin := t.TempDir()
	launched := filepath.Join(t.TempDir(), "dbus-launch-ran")
	script := "#!/bin/sh\ntouch " + launched + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fakeBin, "dbus-launch"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the parallel cases
		if _, err := os.Stat(launched); err == nil {
			t.Errorf("a keyring client ran dbus-launch")
		}
	})
	for _, tc := range []struct {
		name    string
		env     []string
		kind    UnavailableKind
		message string
	}{
		{"healthy", healthy.Env(), "", ""},
		{"no bus address, bus at XDG_RUNTIME_DIR/bus",
			[]string{"XDG_RUNTIME_DIR=" + filepath.Join(healthy.Dir, "run")}, "", ""},
		{"no bus address, no dbus-launch",
			[]string{"PATH=" + empty, "XDG_RUNTIME_DIR=" + empty}, NoSessionBus, "no D-Bus session bus"},
		{"no bus address, dbus-launch installed",
			[]string{"PATH=" + fakeBin + ":" + os.Getenv("PATH"), "XDG_RUNTIME_DIR=" + empty}, NoSessionBus, "MS365AUTH_STORE=file"},
		{"bus address names no socket",
			[]string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + empty + "/bus"}, NoSessionBus, "no D-Bus session bus"},
		{"bus without Secret Service", bare.Env(), NoSecretService, "no Secret Service"},
		{"keyring locked", locked.Env(), KeyringLocked, "locked"},
		{"Secret Service hangs", hung.Env(), KeyringTimeout, "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.kind == NoSessionBus {
				if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
					t.Skip("godbus would find this machine's own user bus")
				}
			}
			// Only the hung service should run into the timeout; the others
			// get one no loaded machine reaches.
			timeout := "10s"
			if tc.kind == KeyringTimeout {
				timeout = "300ms"
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(environWithout("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"),
				helperEnv+"="+timeout)
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v", err)
			}
			var res probeResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("helper output %q: %v", out, err)
			}
			if res.Kind != tc.kind || !strings.Contains(res.Error, tc.message) {
				t.Errorf("Probe = %q (kind %q), want kind %q mentioning %q", res.Error, res.Kind, tc.kind, tc.message)
			}
			t.Logf("Probe error: %s", res.Error)
		})
	}
}

func environWithout(keys ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return env
}

func BenchmarkKeyringLoad(b *testing.B) {
	keyringtest.Require(b)
	for _, max := range []int{0, WindowsMaxItemSize} {
		b.Run(fmt.Sprintf("max=%d", max), func(b *testing.B) {
			k := NewKeyring()
			k.MaxItemSize = max
			if err := k.Save("bench", realisticRecord(41)); err != nil {
				b.Fatal(err)
			}
			defer k.Delete("bench")
			for b.Loop() {
				if _, err := k.Load("bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeyringSave(b *testing.B) {
	keyringtest.Require(b)
	for _, max := range []int{0, WindowsMaxItemSize} {
		b.Run(fmt.Sprintf("max=%d", max), func(b *testing.B) {
			k := NewKeyring()
			k.MaxItemSize = max
			r := realisticRecord(51)
			defer k.Delete("bench")
			for b.Loop() {
				if err := k.Save("bench", r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
