package cli

import (
	"net"
	"path/filepath"
	"testing"
)

func TestFindSessionBus(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer ln.Close()
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
		{"a plain file is not a bus", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(dir)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, found := findSessionBus(func(k string) string { return c.env[k] })
			if found != c.want {
				t.Errorf("found = %v, want %v (%s)", found, c.want, text)
			}
		})
	}
}
