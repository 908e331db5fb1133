package store

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// The errors go-keyring and godbus return in each situation, built the way
// they build them.
func TestMapError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want UnavailableKind // "" means not an UnavailableError
		is   error
	}{
		{"not found", keyring.ErrNotFound, "", ErrNotFound},
		{"no bus, no dbus-launch", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, NoSessionBus, nil},
		{"bus address names no socket", fmt.Errorf("dial unix /run/user/1000/bus: connect: no such file or directory"), NoSessionBus, nil},
		{"no secret service", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown",
			Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, NoSecretService, nil},
		{"locked", fmt.Errorf("failed to unlock correct collection '%v'", "/org/freedesktop/secrets/aliases/default"), KeyringLocked, nil},
		{"too big", keyring.ErrSetDataTooBig, "", keyring.ErrSetDataTooBig},
		{"other", errors.New("org.freedesktop.DBus.Error.NoReply"), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mapError("read", "p", tc.err)
			var u *UnavailableError
			isU := errors.As(err, &u)
			switch {
			case tc.want != "" && !isU:
				t.Fatalf("mapError = %v, want an UnavailableError", err)
			case tc.want != "" && u.Kind != tc.want:
				t.Errorf("kind = %q, want %q", u.Kind, tc.want)
			case tc.want == "" && isU:
				t.Errorf("mapError = %v (%s), want no UnavailableError", err, u.Kind)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("mapError = %v, want errors.Is %v", err, tc.is)
			}
			if isU {
				checkUnavailableText(t, u)
				if u.Unwrap() == nil || u.Unwrap().Error() != tc.err.Error() {
					t.Errorf("Unwrap does not reach the backend's error")
				}
			}
		})
	}
}

func checkUnavailableText(t *testing.T, u *UnavailableError) {
	t.Helper()
	msg := u.Error()
	if n := strings.Count(msg, "\n") + 1; n > 2 {
		t.Errorf("message has %d lines, want 1 or 2:\n%s", n, msg)
	}
	if !strings.Contains(msg, "DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus") && u.Kind != KeyringLocked {
		t.Errorf("message does not say how to point cron or SSH at the bus:\n%s", msg)
	}
}

// hangingBackend never answers until released.
type hangingBackend struct{ release chan struct{} }

func (h hangingBackend) Get(string, string) (string, error) {
	<-h.release
	return "", keyring.ErrNotFound
}
func (h hangingBackend) Set(string, string, string) error { <-h.release; return nil }
func (h hangingBackend) Delete(string, string) error      { <-h.release; return nil }

func TestEveryCallIsBounded(t *testing.T) {
	h := hangingBackend{make(chan struct{})}
	defer close(h.release) // lets the abandoned calls finish
	k := &Keyring{Backend: h, Timeout: 10 * time.Millisecond}
	calls := map[string]func() error{
		"Load":   func() error { _, err := k.Load("p"); return err },
		"Save":   func() error { return k.Save("p", realisticRecord(1)) },
		"Delete": func() error { return k.Delete("p") },
		"Probe":  k.Probe,
	}
	for name, call := range calls {
		var u *UnavailableError
		err := call()
		if !errors.As(err, &u) || u.Kind != KeyringTimeout {
			t.Errorf("%s: %v, want a timeout UnavailableError", name, err)
			continue
		}
		checkUnavailableText(t, u)
	}
}

func TestProbe(t *testing.T) {
	b := &LimitedBackend{}
	k := &Keyring{Backend: b}
	if err := k.Probe(); err != nil {
		t.Errorf("Probe of an empty keyring: %v", err)
	}
	if c := b.Calls(); c != (Calls{Get: 1}) {
		t.Errorf("Probe calls = %+v, want one Get", c)
	}
}

func TestNewKeyringDefaults(t *testing.T) {
	k := NewKeyring()
	if k.Service != ServiceName || k.Timeout != DefaultTimeout || k.Backend == nil || k.Name() != "keyring" {
		t.Errorf("NewKeyring() = %+v", k)
	}
}
