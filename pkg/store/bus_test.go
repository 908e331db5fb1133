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

func TestFindSessionBus(t *testing.T) {
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
		wantAddr   string // DBUS_SESSION_BUS_ADDRESS afterwards; "" means unchanged
		wantErr    []string
	}{
		{"address set", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/elsewhere", "XDG_RUNTIME_DIR": xdgWithBus}, runUserWithBus, "", nil},
		{"bus in XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": xdgWithBus}, runUserWithBus, "unix:path=" + xdgBus, nil},
		{"autolaunch: is no address", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:", "XDG_RUNTIME_DIR": xdgWithBus}, empty, "unix:path=" + xdgBus, nil},
		{"bus in /run/user/UID", map[string]string{"XDG_RUNTIME_DIR": empty}, runUserWithBus, "unix:path=" + runUserBus, nil},
		{"no XDG_RUNTIME_DIR", nil, runUserWithBus, "unix:path=" + runUserBus, nil},
		{"a file that is no socket", map[string]string{"XDG_RUNTIME_DIR": notASocket}, empty, "",
			[]string{"no D-Bus session bus", filepath.Join(notASocket, "bus"), filepath.Join(empty, "bus"), "MS365AUTH_STORE=file", "--store file"}},
		{"nothing anywhere", map[string]string{"XDG_RUNTIME_DIR": empty}, empty, "",
			[]string{"DBUS_SESSION_BUS_ADDRESS is unset", filepath.Join(empty, "bus"), "MS365AUTH_STORE=file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{}
			u := findSessionBus(func(k string) string { return tc.env[k] },
				func(k, v string) error { set[k] = v; return nil }, tc.runUserDir)
			if tc.wantErr == nil {
				if u != nil {
					t.Fatalf("findSessionBus: %v", u)
				}
				if got := set["DBUS_SESSION_BUS_ADDRESS"]; got != tc.wantAddr {
					t.Errorf("DBUS_SESSION_BUS_ADDRESS set to %q, want %q", got, tc.wantAddr)
				}
				return
			}
			if u == nil || u.Kind != NoSessionBus {
				t.Fatalf("findSessionBus = %v, want a NoSessionBus error", u)
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
