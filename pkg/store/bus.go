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
	"sync"

	"github.com/godbus/dbus/v5"
)

// usesSecretService reports whether go-keyring talks to a Secret Service
// over the D-Bus session bus on this system (every Unix but macOS).
var usesSecretService = runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "ios"

// sessionBusReady finds the session bus once per process, before the first
// go-keyring call; see findSessionBus. It is nil where go-keyring does not
// use D-Bus.
var sessionBusReady = sync.OnceValue(func() error {
	if !usesSecretService {
		return nil
	}
	if u := findSessionBus(os.Getenv, os.Setenv, "/run/user/"+strconv.Itoa(os.Getuid())); u != nil {
		return u
	}
	return nil
})

// findSessionBus makes sure go-keyring's D-Bus client (godbus) connects to
// the user's existing session bus and never launches one. The rules:
//   - DBUS_SESSION_BUS_ADDRESS set (and not "autolaunch:"): used as it is;
//   - otherwise the systemd user bus, the socket "bus" in $XDG_RUNTIME_DIR
//     or else in runUserDir (/run/user/UID), where cron and SSH sessions
//     lack the variable but a logged-in or lingering user has a bus: its
//     address is put into DBUS_SESSION_BUS_ADDRESS for this process;
//   - no socket either: a NoSessionBus error, returned before any D-Bus
//     client runs. godbus would otherwise run dbus-launch, which starts a
//     stray bus (and daemons on it) that outlives the command.
func findSessionBus(getenv func(string) string, setenv func(k, v string) error, runUserDir string) *UnavailableError {
	if addr := getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return nil
	}
	var tried []string
	for _, dir := range []string{getenv("XDG_RUNTIME_DIR"), runUserDir} {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, "bus")
		if slices.Contains(tried, path) {
			continue
		}
		tried = append(tried, path)
		if fi, err := os.Stat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
			if err := setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+dbus.EscapeBusAddressValue(path)); err != nil {
				return &UnavailableError{Kind: NoSessionBus, Cause: "cannot set DBUS_SESSION_BUS_ADDRESS.", Remedy: noBusRemedy, Err: err}
			}
			return nil
		}
	}
	return &UnavailableError{
		Kind:   NoSessionBus,
		Cause:  fmt.Sprintf("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and there is no bus socket at %s.", strings.Join(tried, " or ")),
		Remedy: noBusRemedy,
	}
}
