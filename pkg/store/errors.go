package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds each keyring call when Keyring.Timeout is zero. A
// healthy Secret Service answers in a few milliseconds; one that hangs is
// usually waiting on an unlock prompt nobody can see.
const DefaultTimeout = 3 * time.Second

// UnavailableKind says why the keyring could not be used.
type UnavailableKind string

// Kinds of UnavailableError.
const (
	NoSessionBus    UnavailableKind = "no-session-bus"
	NoSecretService UnavailableKind = "no-secret-service"
	KeyringLocked   UnavailableKind = "keyring-locked"
	KeyringTimeout  UnavailableKind = "timeout"
)

// UnavailableError means the OS keyring cannot be reached or used right now:
// retrying the same command in the same environment will fail the same way.
// Cause says what happened and Remedy what to do; neither ever holds a
// stored value.
type UnavailableError struct {
	Kind   UnavailableKind
	Cause  string
	Remedy string
	Err    error // the backend's error; nil for a timeout
}

func (e *UnavailableError) Error() string {
	return "the OS keyring is unavailable: " + e.Cause + "\n" + e.Remedy
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// WithoutFileStoreHint returns the error without its last way out, keeping
// the tokens in files: for a command that must reach tokens already in the
// keyring (logout), that advice does not fit.
func (e *UnavailableError) WithoutFileStoreHint() *UnavailableError {
	c := *e
	if r, ok := strings.CutSuffix(e.Remedy, "; "+FileStoreHint+"."); ok {
		c.Remedy = r + "."
	}
	return &c
}

// Remedy texts. Every one ends with the file store, the way out on
// machines that have no usable keyring at all.
const (
	// busHint is for a bus that is somewhere ms365auth does not look.
	busHint = "point DBUS_SESSION_BUS_ADDRESS at the bus (e.g. DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus)"
	// FileStoreHint is the remedy of last resort: keep the tokens in files.
	// The command line fills in the command that does it for the profile
	// at hand (FileStoreCommand).
	FileStoreHint = "or keep the tokens in a file instead: " + FileStoreCommand + " (or MS365AUTH_STORE=file)"
	// FileStoreCommand is the command in FileStoreHint.
	FileStoreCommand = "ms365auth link --store file"

	noBusRemedy = "Start a Secret Service in a desktop or systemd user session (for cron and SSH: loginctl enable-linger $USER); " +
		busHint + "; " + FileStoreHint + "."
)

// unavailable recognises the Secret Service failures go-keyring reports as
// plain text (it has no typed errors for them) and returns nil for anything
// else. The texts are the ones godbus and go-keyring produce verbatim.
func unavailable(err error) *UnavailableError {
	msg := err.Error()
	switch {
	case strings.Contains(msg, `"dbus-launch": executable file not found`),
		strings.Contains(msg, "couldn't determine address of session bus"),
		strings.HasPrefix(msg, "dial unix"):
		return &UnavailableError{
			Kind:   NoSessionBus,
			Cause:  "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset or points at nothing).",
			Remedy: noBusRemedy,
			Err:    err,
		}
	case strings.Contains(msg, "org.freedesktop.secrets was not provided"),
		strings.Contains(msg, "org.freedesktop.DBus.Error.ServiceUnknown"):
		return &UnavailableError{
			Kind:   NoSecretService,
			Cause:  "no Secret Service on the session bus (nothing owns org.freedesktop.secrets).",
			Remedy: "Start gnome-keyring-daemon --components=secrets (or KeePassXC with Secret Service enabled) on the session bus; " + busHint + "; " + FileStoreHint + ".",
			Err:    err,
		}
	case strings.Contains(msg, "failed to unlock correct collection"):
		return &UnavailableError{
			Kind:   KeyringLocked,
			Cause:  "the default keyring is locked and no unlock prompt can be shown.",
			Remedy: "Unlock it: log in to the desktop session, or run gnome-keyring-daemon --replace --unlock --components=secrets and type the keyring password on its stdin; " + FileStoreHint + ".",
			Err:    err,
		}
	}
	return nil
}

// timeoutError is what a call that did not answer within d turns into.
func timeoutError(op string, d time.Duration) *UnavailableError {
	return &UnavailableError{
		Kind:   KeyringTimeout,
		Cause:  fmt.Sprintf("the keyring did not answer a %s within %s.", op, d),
		Remedy: "Check that the Secret Service (e.g. gnome-keyring-daemon) is running and not waiting on an unlock prompt; " + busHint + "; " + FileStoreHint + ".",
	}
}

// mapError turns a backend error into this package's vocabulary: ErrNotFound,
// *UnavailableError, or a wrapped error naming the operation and the item
// (item names are profile names, never secrets).
func mapError(op, user string, err error) error {
	var u *UnavailableError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &u): // a timeout, from within
		return u
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("the keyring refused item %q as too big (this platform's item limit is lower than expected): %w", user, err)
	}
	if u := unavailable(err); u != nil {
		return u
	}
	return fmt.Errorf("keyring %s of item %q failed: %w", op, user, err)
}

// within runs f in a goroutine and gives up after d. A call that times out
// keeps running in the background until the backend returns (go-keyring
// offers no cancellation); its goroutine then exits on its own, since the
// result channel is buffered. A late Set may therefore still land, which the
// split-value protocol tolerates: it only ever adds unreferenced chunks.
func within[T any](op string, d time.Duration, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, timeoutError(op, d)
	}
}
