package diagnose

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/random"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// prober is a store that can tell whether it answers (the keyring).
type prober interface{ Probe() error }

// storeFacts are the profile's store, opened once, and what its first
// look showed.
type storeFacts struct {
	st      store.Store
	openErr error
	// For a keyring behind a Secret Service: the session bus as found
	// without connecting, and the keyring's answer to one read.
	secretService bool
	bus           store.SessionBus
	probeErr      error
}

// openStore opens the store the profile's settings name, once. For the OS
// keyring on systems with a Secret Service it first looks for the session
// bus without connecting, so that no D-Bus client runs where there is none;
// then one read tells whether the service answers and is unlocked.
func (x *Examination) openStore() *storeFacts {
	if x.store != nil {
		return x.store
	}
	f := &storeFacts{}
	x.store = f
	if f.st, f.openErr = x.env.OpenStore(x.profileSettings().storeName); f.openErr != nil {
		return f
	}
	_, isKeyring := f.st.(*store.Keyring)
	f.secretService = isKeyring && store.UsesSecretService
	if f.secretService {
		if f.bus = store.FindSessionBus(x.env.Getenv); !f.bus.Found() {
			return f
		}
	}
	if p, ok := f.st.(prober); ok {
		f.probeErr = p.Probe()
	}
	return f
}

// usable reports whether the store answered its first look.
func (f *storeFacts) usable() bool {
	return f.openErr == nil && f.probeErr == nil && (!f.secretService || f.bus.Found())
}

// StoreGroup checks the store the profile uses: for the keyring the bus,
// the service and its lock; for every store a write/read/delete of a
// throwaway record; for the file store its permissions and encryption; and
// then that the profile's own record opens (a throwaway record proves
// nothing about a passphrase).
func StoreGroup() Group {
	return Group{Name: "store", Checks: []Check{
		{ID: "store", Title: "store", Run: checkStoreOpens},
		{ID: "keyring.bus", Title: "D-Bus session bus", Run: checkBus},
		{ID: "keyring.service", Title: "Secret Service", Run: checkSecretService},
		{ID: "keyring.unlocked", Title: "keyring unlocked", Run: checkUnlocked},
		{ID: "store.roundtrip", Title: "write/read/delete", Run: checkRoundTrip},
		{ID: "store.permissions", Title: "file permissions", Run: checkFileModes},
		{ID: "store.encryption", Title: "encryption", Run: checkEncryption},
		{ID: "store.record", Title: "profile's tokens", Run: checkRecord},
	}}
}

// checkStoreOpens reports a store that cannot be opened, or (other than a
// Secret Service keyring, which the keyring checks cover) does not answer.
func checkStoreOpens(_ context.Context, x *Examination) Result {
	f := x.openStore()
	switch {
	case f.openErr != nil:
		return Result{Status: Fail, Summary: "cannot be opened", Fix: f.openErr.Error(), Cause: f.openErr}
	case !f.secretService && f.probeErr != nil:
		r := storeFailure(f.probeErr)
		r.Title = f.st.Name() + " store"
		return r
	}
	return Result{}
}

// The remedy shared by the no-bus findings.
const busRemedy = "run inside a desktop or systemd user session (for cron and SSH: `loginctl enable-linger $USER`, then DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus), or keep the tokens in a file instead: MS365AUTH_STORE=file"

// keyringKind is the keyring's own account of why it cannot be used:
// nil when it answered; an error that is no UnavailableError leaves kind "".
func (f *storeFacts) keyringKind() (store.UnavailableKind, *store.UnavailableError) {
	var ue *store.UnavailableError
	if errors.As(f.probeErr, &ue) {
		return ue.Kind, ue
	}
	return "", nil
}

func checkBus(_ context.Context, x *Examination) Result {
	f := x.openStore()
	if f.openErr != nil || !f.secretService {
		return Result{}
	}
	if !f.bus.Found() {
		return Result{Status: Fail, Summary: f.bus.Where, Fix: busRemedy}
	}
	if kind, ue := f.keyringKind(); kind == store.NoSessionBus {
		// The bus is there, but the keyring client could not use it.
		return Result{Status: Fail, Summary: f.bus.Where + "; but the keyring client found " + strings.TrimSuffix(ue.Cause, "."), Fix: ue.Remedy, Cause: ue}
	}
	return Result{Status: OK, Summary: f.bus.Where}
}

func checkSecretService(_ context.Context, x *Examination) Result {
	f := x.openStore()
	if f.openErr != nil || !f.secretService {
		return Result{}
	}
	kind, ue := f.keyringKind()
	switch {
	case !f.bus.Found() || kind == store.NoSessionBus:
		return skip("needs a session bus")
	case f.probeErr == nil, kind == store.KeyringLocked:
		return Result{Status: OK, Summary: "answers on the session bus"}
	case ue == nil:
		return storeFailure(f.probeErr)
	}
	// No Secret Service, or it did not answer.
	return Result{Status: Fail, Summary: strings.TrimSuffix(ue.Cause, "."), Fix: ue.Remedy, Cause: ue}
}

func checkUnlocked(_ context.Context, x *Examination) Result {
	f := x.openStore()
	if f.openErr != nil || !f.secretService {
		return Result{}
	}
	kind, ue := f.keyringKind()
	switch {
	case kind == store.KeyringLocked:
		return Result{Status: Fail, Summary: strings.TrimSuffix(ue.Cause, "."), Fix: ue.Remedy, Cause: ue}
	case f.probeErr != nil || !f.bus.Found():
		return skip("needs a Secret Service")
	}
	return Result{Status: OK, Summary: "the default collection is unlocked"}
}

func checkRoundTrip(_ context.Context, x *Examination) Result {
	f := x.openStore()
	switch {
	case f.openErr != nil, !f.secretService && f.probeErr != nil:
		return Result{} // the store check failed
	case !f.usable():
		return skip("needs a usable keyring")
	}
	item, err := roundTrip(f.st)
	if err != nil {
		fix := "the store cannot keep tokens reliably; no profile's data was touched"
		if item != "" {
			fix += fmt.Sprintf(", but the throwaway item %q may be left behind (it holds no secret)", item)
		}
		r := failure(err)
		r.Fix = fix
		return r
	}
	return Result{Status: OK, Summary: "a throwaway record the size of real tokens was stored, read back and removed from the " + f.st.Name() + " store"}
}

// fileStore returns the file store when the round trip worked, else nil.
func (x *Examination) fileStore() *store.File {
	if x.Status("store.roundtrip") != OK {
		return nil
	}
	fs, _ := x.openStore().st.(*store.File)
	return fs
}

// checkFileModes warns of file store files that other users can read,
// before checkRecord's read makes them private.
func checkFileModes(_ context.Context, x *Examination) Result {
	fs := x.fileStore()
	if fs == nil {
		return Result{}
	}
	open := fs.OpenToOthers(x.env.Profile)
	if len(open) == 0 {
		return Result{}
	}
	return Result{Status: Warn, Summary: "open to other users: " + strings.Join(open, ", "),
		Fix: "ms365auth makes them private again when it reads them (this check included; by hand: chmod 700 the directory, chmod 600 the files); if anyone else could read them, treat the tokens as leaked (https://github.com/ms365auth/ms365auth/blob/main/docs/security.md#the-file-store)"}
}

// checkEncryption says whether the file store keeps the profile's tokens
// encrypted. Plain text is a choice (the files are 0600), so a warning.
func checkEncryption(_ context.Context, x *Examination) Result {
	fs := x.fileStore()
	if fs == nil {
		return Result{}
	}
	name := x.env.Profile
	stored, err := fs.RecordEncrypted(name)
	switch {
	case err == nil && stored:
		return Result{Status: OK, Summary: fmt.Sprintf("the record of profile %q is encrypted (age, scrypt)", name)}
	case err == nil && fs.Encrypted():
		return Result{Status: Warn, Summary: fmt.Sprintf("the record of profile %q is still plain text; its next write encrypts it with the passphrase from %s", name, fs.PassphraseFrom),
			Fix: "run: " + x.env.ReauthCommand(name)}
	case fs.Encrypted():
		return Result{Status: OK, Summary: "new records are encrypted (age, scrypt) with the passphrase from " + fs.PassphraseFrom}
	}
	return Result{Status: Warn, Summary: "tokens are kept in plain text, in files only you can read",
		Fix: "to encrypt them, set " + store.EnvPassphraseFile + " to a file holding a passphrase (or " + store.EnvPassphrase + "); the next write encrypts"}
}

// checkRecord opens the profile's own record, as token would, when there
// is one. Nothing of it is shown.
func checkRecord(_ context.Context, x *Examination) Result {
	if x.Status("store.roundtrip") != OK {
		return Result{}
	}
	name := x.env.Profile
	_, err := x.openStore().st.Load(name)
	switch {
	case err == nil:
		return Result{Status: OK, Summary: fmt.Sprintf("the record of profile %q opens", name)}
	case errors.Is(err, store.ErrNotFound):
		return Result{} // not linked yet: nothing to open
	}
	r := storeFailure(err)
	if fix := x.env.UnreadableFix(err, name); fix != "" {
		r.Fix = fix
	}
	return r
}

// roundTrip saves, reads back and deletes a throwaway record, as large as a
// real one (Entra's tokens together run to several kilobytes, which is what
// splits items on Windows and macOS), under a fresh profile name that no
// profile can have. It returns that name when something may be left behind.
func roundTrip(st store.Store) (string, error) {
	name := "ms365auth-doctor-" + random.Hex(6)
	rec := &store.Record{
		AccessToken:  "doctor-" + random.Text(2400),
		RefreshToken: "doctor-" + random.Text(1500),
		TokenType:    "Bearer",
		Account:      "doctor@example.invalid",
		Expiry:       time.Now().Add(time.Hour).Truncate(time.Second),
	}
	if err := st.Save(name, rec); err != nil {
		return "", fmt.Errorf("could not write a test record: %w", err)
	}
	got, err := st.Load(name)
	if err != nil {
		st.Delete(name)
		return name, fmt.Errorf("wrote a test record but could not read it back: %w", err)
	}
	if got.AccessToken != rec.AccessToken || got.RefreshToken != rec.RefreshToken {
		st.Delete(name)
		return name, errors.New("a test record read back differently from what was written")
	}
	if err := st.Delete(name); err != nil {
		return name, fmt.Errorf("could not delete the test record: %w", err)
	}
	if _, err := st.Load(name); !errors.Is(err, store.ErrNotFound) {
		return name, errors.New("the test record is still there after it was deleted")
	}
	return "", nil
}
