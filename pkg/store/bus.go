package store

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"
)

// UsesSecretService reports whether the OS keyring is a Secret Service that
// go-keyring reaches over the D-Bus session bus: every Unix but macOS.
const UsesSecretService = runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "ios"

const busVariable = "DBUS_SESSION_BUS_ADDRESS"

// SessionBus is where the D-Bus session bus is, as found without
// connecting. The keyring client dials exactly Address (see
// Keyring.useSessionBus), so what doctor reports and what the keyring does
// cannot disagree.
type SessionBus struct {
	Address string // what the keyring client dials; "" when there is no bus
	Where   string // for people: where the bus is, or what is missing
}

// Found reports whether there is a bus to dial.
func (b SessionBus) Found() bool { return b.Address != "" }

// FindSessionBus finds the session bus in the environment getenv reads,
// falling back to the user bus in /run/user/UID (see findSessionBus).
func FindSessionBus(getenv func(string) string) SessionBus {
	return findSessionBus(getenv, runUserDir())
}

func runUserDir() string { return "/run/user/" + strconv.Itoa(os.Getuid()) }

// findSessionBus applies the rules, in order:
//   - DBUS_SESSION_BUS_ADDRESS names a bus (any address but an autolaunch:
//     one): that address, unless every part of it is a unix:path= socket
//     that does not exist (abstract sockets and TCP cannot be checked
//     without connecting, so they count as there);
//   - otherwise (unset, or autolaunch:, which asks a client to start a bus
//     of its own) the systemd user bus: the socket "bus" in
//     $XDG_RUNTIME_DIR, or else in runUserDir. Cron and SSH sessions lack
//     the variable, but a logged-in or lingering user has this bus;
//   - neither: no bus (Address "").
func findSessionBus(getenv func(string) string, runUserDir string) SessionBus {
	addr := getenv(busVariable)
	if addr != "" && !isAutolaunch(addr) {
		var missing []string
		for _, a := range strings.Split(addr, ";") {
			if strings.TrimSpace(a) == "" {
				continue
			}
			path, ok := unixPath(a)
			if !ok || isSocket(path) {
				return SessionBus{Address: addr, Where: busVariable + "=" + addr}
			}
			missing = append(missing, path)
		}
		return SessionBus{Where: fmt.Sprintf("%s=%s, but there is no socket at %s", busVariable, addr, strings.Join(missing, ", "))}
	}
	unset := busVariable + " is unset"
	if addr != "" {
		unset = busVariable + "=" + addr + " would start a new bus"
	}
	path, tried := userBus(getenv, runUserDir)
	if path == "" {
		return SessionBus{Where: unset + " and there is no user bus at " + strings.Join(tried, " or ")}
	}
	return SessionBus{Address: "unix:path=" + dbus.EscapeBusAddressValue(path), Where: unset + "; the user bus is at " + path}
}

// isAutolaunch reports whether every part of a D-Bus address uses the
// autolaunch: transport, with or without options. godbus launches a bus
// (dbus-launch) for "autolaunch:" and cannot dial the others.
func isAutolaunch(addr string) bool {
	seen := false
	for _, a := range strings.Split(addr, ";") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !strings.HasPrefix(a, "autolaunch:") {
			return false
		}
		seen = true
	}
	return seen
}

// unixPath returns the socket path of a "unix:path=..." D-Bus address,
// with its escapes decoded.
func unixPath(addr string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(addr), "unix:")
	if !ok {
		return "", false
	}
	for _, kv := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(kv, "path="); ok {
			if p, err := dbus.UnescapeBusAddressValue(v); err == nil {
				return p, true
			}
		}
	}
	return "", false
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Type() == fs.ModeSocket
}

// userBus finds the socket of the user's systemd bus: "bus" in
// $XDG_RUNTIME_DIR, else in runUserDir. It returns "" when there is none,
// and the paths it looked at.
func userBus(getenv func(string) string, runUserDir string) (path string, tried []string) {
	for _, dir := range []string{getenv("XDG_RUNTIME_DIR"), runUserDir} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "bus")
		if slices.Contains(tried, p) {
			continue
		}
		tried = append(tried, p)
		if isSocket(p) {
			return p, tried
		}
	}
	return "", tried
}

// useSessionBus makes sure go-keyring's D-Bus client (godbus), which reads
// DBUS_SESSION_BUS_ADDRESS from the process environment itself, dials the
// bus findSessionBus found in getenv's environment, and never launches one:
// with no bus it returns a NoSessionBus error before any D-Bus client
// runs. godbus would otherwise run dbus-launch, which starts a stray bus
// (and daemons on it) that outlives the command.
func useSessionBus(getenv func(string) string, setenv func(k, v string) error, runUserDir string) *UnavailableError {
	bus := findSessionBus(getenv, runUserDir)
	if !bus.Found() {
		return &UnavailableError{Kind: NoSessionBus, Cause: "no D-Bus session bus: " + bus.Where + ".", Remedy: noBusRemedy}
	}
	if err := setenv(busVariable, bus.Address); err != nil {
		return &UnavailableError{Kind: NoSessionBus, Cause: "cannot set " + busVariable + ".", Remedy: noBusRemedy, Err: err}
	}
	return nil
}
