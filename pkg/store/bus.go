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

// UserBusSocket finds the socket of the user's systemd bus without
// connecting: "bus" in $XDG_RUNTIME_DIR, else in /run/user/UID. It returns
// "" when there is none, and the paths it looked at.
func UserBusSocket(getenv func(string) string) (path string, tried []string) {
	return userBus(getenv, "/run/user/"+strconv.Itoa(os.Getuid()))
}

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
		if fi, err := os.Stat(p); err == nil && fi.Mode().Type() == fs.ModeSocket {
			return p, tried
		}
	}
	return "", tried
}

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
	path, tried := userBus(getenv, runUserDir)
	if path != "" {
		if err := setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+dbus.EscapeBusAddressValue(path)); err != nil {
			return &UnavailableError{Kind: NoSessionBus, Cause: "cannot set DBUS_SESSION_BUS_ADDRESS.", Remedy: noBusRemedy, Err: err}
		}
		return nil
	}
	return &UnavailableError{
		Kind:   NoSessionBus,
		Cause:  fmt.Sprintf("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and there is no bus socket at %s.", strings.Join(tried, " or ")),
		Remedy: noBusRemedy,
	}
}
