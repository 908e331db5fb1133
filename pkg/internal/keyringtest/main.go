// Package keyringtest runs a real, private Secret Service for tests: its own
// dbus-daemon and an unlocked gnome-keyring-daemon in a temporary directory,
// so tests exercise go-keyring's real D-Bus path without touching the
// developer's keyring and without a shell wrapper such as dbus-run-session.
//
// Typical use, in the package's TestMain:
//
//	func TestMain(m *testing.M) { keyringtest.Main(m) }
//
// and in each test that needs the keyring: keyringtest.Require(t).
//
// When dbus-daemon or gnome-keyring-daemon is not installed, Main fails the
// run (exit 1, printing the apt-get command) if the CI environment variable
// is non-empty, and otherwise prints a SKIP line and still runs the tests:
// those that call Require skip, the others run as usual. On systems other
// than Linux the real-keyring tests always skip.
package keyringtest

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/zalando/go-keyring"
)

// InstallCommand installs what the harness needs on Debian and Ubuntu
// (libsecret-tools adds secret-tool, used for cross-checks). Do not add
// dbus-x11: it makes clients launch stray buses when no bus is configured.
const InstallCommand = "apt-get install -y --no-install-recommends dbus gnome-keyring libsecret-tools"

var (
	active     *Session // set by Main
	skipReason string   // set by Main when it runs without a session
)

// Main is a TestMain body: Run, then exit with its code. A TestMain with
// its own cleanup calls Run instead, cleans up, then calls os.Exit:
// deferred calls do not run on os.Exit.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run starts a Session, points this process at it (Setenv), checks a
// go-keyring write and read, runs the tests, closes the session and
// returns the exit code. See the package comment for what happens when the
// daemons are missing.
func Run(m *testing.M) int {
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" && !errors.Is(err, errUnsupported) {
			fmt.Fprintf(os.Stderr, "keyringtest: FAIL: %v\nkeyringtest: install them with: %s\n", err, InstallCommand)
			return 1
		}
		skipReason = fmt.Sprintf("SKIP real-keyring tests: %v (install with: %s)", err, InstallCommand)
		fmt.Fprintln(os.Stderr, "keyringtest:", skipReason)
		return m.Run()
	}
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyringtest: FAIL:", err)
		return 1
	}
	defer s.Close()
	if err := s.Setenv(); err != nil {
		fmt.Fprintln(os.Stderr, "keyringtest: FAIL:", err)
		return 1
	}
	if err := roundTrip(); err != nil {
		fmt.Fprintln(os.Stderr, "keyringtest: FAIL: the private keyring does not work through go-keyring:", err)
		return 1
	}
	active = s
	return m.Run()
}

// roundTrip writes, reads and deletes one item through go-keyring, the
// client the tests use, to prove the session is usable end to end.
func roundTrip() error {
	const service, user, value = "keyringtest", "ready", "ok"
	if err := keyring.Set(service, user, value); err != nil {
		return err
	}
	got, err := keyring.Get(service, user)
	if err != nil {
		return err
	}
	if got != value {
		return fmt.Errorf("read back %d bytes, want %d", len(got), len(value))
	}
	return keyring.Delete(service, user)
}

// Require returns the session Main started, or skips the test when Main
// runs without one. It fails the test when TestMain does not use Main.
func Require(t testing.TB) *Session {
	t.Helper()
	if active != nil {
		return active
	}
	if skipReason == "" {
		t.Fatal("keyringtest.Require needs keyringtest.Main in the package's TestMain")
	}
	t.Skip(skipReason)
	return nil
}
