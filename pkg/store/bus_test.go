//go:build unix

package store

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listenBus puts a real unix socket at dir/bus.
func listenBus(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return path
}

func TestUseSessionBus(t *testing.T) {
	xdgWithBus, runUserWithBus := t.TempDir(), t.TempDir()
	xdgBus, runUserBus := listenBus(t, xdgWithBus), listenBus(t, runUserWithBus)
	notASocket := t.TempDir()
	if err := os.WriteFile(filepath.Join(notASocket, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	for _, tc := range []struct {
		name       string
		env        map[string]string
		runUserDir string
		wantAddr   string // DBUS_SESSION_BUS_ADDRESS afterwards
		wantErr    []string
	}{
		{"address set", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + runUserBus, "XDG_RUNTIME_DIR": xdgWithBus}, empty, "unix:path=" + runUserBus, nil},
		{"bus in XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": xdgWithBus}, runUserWithBus, "unix:path=" + xdgBus, nil},
		{"autolaunch: is no address", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:", "XDG_RUNTIME_DIR": xdgWithBus}, empty, "unix:path=" + xdgBus, nil},
		{"autolaunch: with options is no address either", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:scope=*user", "XDG_RUNTIME_DIR": xdgWithBus}, empty, "unix:path=" + xdgBus, nil},
		{"bus in /run/user/UID", map[string]string{"XDG_RUNTIME_DIR": empty}, runUserWithBus, "unix:path=" + runUserBus, nil},
		{"no XDG_RUNTIME_DIR", nil, runUserWithBus, "unix:path=" + runUserBus, nil},
		{"a file that is no socket", map[string]string{"XDG_RUNTIME_DIR": notASocket}, empty, "",
			[]string{"no D-Bus session bus", filepath.Join(notASocket, "bus"), filepath.Join(empty, "bus"), "MS365AUTH_STORE=file", "--store file"}},
		{"nothing anywhere", map[string]string{"XDG_RUNTIME_DIR": empty}, empty, "",
			[]string{"DBUS_SESSION_BUS_ADDRESS is unset", filepath.Join(empty, "bus"), "MS365AUTH_STORE=file"}},
		{"address names no socket", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(empty, "gone"), "XDG_RUNTIME_DIR": xdgWithBus}, empty, "",
			[]string{"no socket at " + filepath.Join(empty, "gone"), "MS365AUTH_STORE=file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{}
			u := useSessionBus(func(k string) string { return tc.env[k] },
				func(k, v string) error { set[k] = v; return nil }, tc.runUserDir)
			if tc.wantErr == nil {
				if u != nil {
					t.Fatalf("useSessionBus: %v", u)
				}
				if got := set["DBUS_SESSION_BUS_ADDRESS"]; got != tc.wantAddr {
					t.Errorf("DBUS_SESSION_BUS_ADDRESS set to %q, want %q", got, tc.wantAddr)
				}
				return
			}
			if u == nil || u.Kind != NoSessionBus {
				t.Fatalf("useSessionBus = %v, want a NoSessionBus error", u)
			}
			if len(set) != 0 {
				t.Errorf("the environment was changed: %v", set)
			}
			checkUnavailableText(t, u)
			for _, w := range tc.wantErr {
				if !strings.Contains(u.Error(), w) {
					t.Errorf("message lacks %q:\n%s", w, u.Error())
				}
			}
		})
	}
}

func TestFindSessionBus(t *testing.T) {
	dir := t.TempDir()
	sock := listenBus(t, dir)
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"address with a socket", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + sock + ",guid=abc"}, true},
		{"escaped path", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(dir, "%62us")}, true},
		{"address without a socket", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + missing}, false},
		{"second address works", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + missing + ";unix:path=" + sock}, true},
		{"abstract socket cannot be checked", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/dbus-x"}, true},
		{"user bus", map[string]string{"XDG_RUNTIME_DIR": dir}, true},
		{"autolaunch is no bus", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:", "XDG_RUNTIME_DIR": t.TempDir()}, false},
		{"no user bus", map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}, false},
		{"a directory is not a bus", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + dir}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bus := findSessionBus(func(k string) string { return c.env[k] }, t.TempDir())
			if bus.Found() != c.want {
				t.Errorf("found = %v, want %v (%s)", bus.Found(), c.want, bus.Where)
			}
		})
	}
}

// What doctor reports (FindSessionBus) and what the keyring client dials
// (useSessionBus, then godbus reads the variable) come from one rule. They
// used to be two, and disagreed on "autolaunch:" addresses with options:
// doctor reported the user bus while the keyring client was left to dial
// the autolaunch address, which godbus cannot.
func TestKeyringDialsWhatFindSessionBusReports(t *testing.T) {
	xdg := t.TempDir()
	userBus := listenBus(t, xdg)
	for _, addr := range []string{"", "autolaunch:", "autolaunch:scope=*user", "unix:path=" + userBus, "unix:path=" + filepath.Join(xdg, "gone"), "unix:abstract=/tmp/dbus-x"} {
		t.Run(addr, func(t *testing.T) {
			env := map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr, "XDG_RUNTIME_DIR": xdg}
			getenv := func(k string) string { return env[k] }
			reported := findSessionBus(getenv, t.TempDir())
			// godbus dials what the variable holds when it first connects.
			u := useSessionBus(getenv, func(k, v string) error { env[k] = v; return nil }, t.TempDir())
			dialled := ""
			if u == nil {
				dialled = env["DBUS_SESSION_BUS_ADDRESS"]
			}
			if (u == nil) != reported.Found() || dialled != reported.Address {
				t.Errorf("reported %q (found %v), but the keyring client would dial %q (error %v)", reported.Address, reported.Found(), dialled, u)
			}
		})
	}
}
