package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// Store names, as --store, MS365AUTH_STORE and a profile's "store" setting
// spell them.
const (
	StoreKeyring = "keyring"
	StoreFile    = "file"
	EnvStore     = "MS365AUTH_STORE"
)

// StoreNames lists the stores, for help and completion.
var StoreNames = []string{StoreKeyring, StoreFile}

func unknownStore(name string) error {
	return fmt.Errorf("unknown store %q: use %q or %q", name, StoreKeyring, StoreFile)
}

// CheckStoreName refuses a store name that is none of StoreNames.
func CheckStoreName(name string) error {
	if !slices.Contains(StoreNames, name) {
		return unknownStore(name)
	}
	return nil
}

// KeyringWayOut names command (which links the profile at hand again with
// --store file) in a keyring error's last way out, keeping the tokens in
// files; other errors, and command "", are returned as they are.
func KeyringWayOut(err error, command string) error {
	var ue *store.UnavailableError
	if command == "" || !errors.As(err, &ue) || !strings.Contains(err.Error(), store.FileStoreHint) {
		return err
	}
	return &reworded{msg: FileStoreWayOut(err.Error(), command), err: err}
}

// FileStoreWayOut names command in text's way out to the file store (see
// KeyringWayOut), e.g. in a doctor check's fix.
func FileStoreWayOut(text, command string) string {
	if command == "" {
		return text
	}
	hint := strings.Replace(store.FileStoreHint, store.FileStoreCommand, command, 1)
	return strings.Replace(text, store.FileStoreHint, hint, 1)
}

// FileStoreLinkCommand links profile p again, keeping its tokens in files.
func (s *Service) FileStoreLinkCommand(p *profile.Profile) string {
	q := *p
	q.Store = StoreFile
	return s.LinkCommand(&q, q.Method)
}

// FileStoreWayOutFor is the link that keeps profile name's tokens in files,
// for a keyring's way out: FileStoreLinkCommand of p, the settings a link
// would have, or when those could not be worked out (nil), a link with the
// client ID left to fill in.
func (s *Service) FileStoreWayOutFor(name string, p *profile.Profile) string {
	if p == nil {
		return "ms365auth link" + ProfileFlag(name) + " --client-id <application ID> --store " + StoreFile
	}
	return s.FileStoreLinkCommand(p)
}

// reworded is an error with a message of its own.
type reworded struct {
	msg string
	err error
}

func (r *reworded) Error() string { return r.msg }
func (r *reworded) Unwrap() error { return r.err }

// OpenStore opens a store by name; "" is the keyring. getenv gives the
// file store its directory and passphrase.
func OpenStore(name string, getenv func(string) string) (store.Store, error) {
	switch name {
	case "", StoreKeyring:
		return store.NewKeyringIn(getenv), nil
	case StoreFile:
		return store.NewFile(getenv)
	}
	return nil, unknownStore(name)
}

// ChooseStore names the store link keeps a profile in. The decision rule,
// first that applies: flag (--store); MS365AUTH_STORE; the store the
// profile already uses (remembered); "" (the keyring). Only a choice
// selects the file store: a keyring that cannot be reached is an error,
// never a reason to write tokens to files instead.
func (s *Service) ChooseStore(flag, remembered string) (string, error) {
	for _, name := range []string{flag, s.d.Getenv(EnvStore)} {
		if name != "" {
			return name, CheckStoreName(name)
		}
	}
	return remembered, nil
}

// ProfileStoreName names the store that holds a linked profile's tokens:
// the one its settings name. A profile whose settings name none (or that
// has no settings, p nil) uses MS365AUTH_STORE, else the keyring.
// MS365AUTH_STORE naming a different store than the settings is an error
// rather than a switch: the tokens are where the settings say, and "store
// move" moves them.
func (s *Service) ProfileStoreName(p *profile.Profile) (string, error) {
	wanted := s.d.Getenv(EnvStore)
	if wanted != "" {
		if err := CheckStoreName(wanted); err != nil {
			return "", fmt.Errorf("%s: %w", EnvStore, err)
		}
	}
	remembered := ""
	if p != nil {
		remembered = p.Store
	}
	switch {
	case remembered == "" && wanted == "":
		return StoreKeyring, nil
	case remembered == "":
		return wanted, nil
	case wanted != "" && wanted != remembered:
		return "", fmt.Errorf("profile %q keeps its tokens in the %s store, but %s=%s: unset %s, move the profile with: ms365auth store move --to %s%s, or link it again there: ms365auth link --store %s%s",
			p.Name, remembered, EnvStore, wanted, EnvStore, wanted, ProfileFlag(p.Name), wanted, ProfileFlag(p.Name))
	}
	return remembered, nil
}

// OpenProfileStore opens the store that holds a linked profile's tokens.
func (s *Service) OpenProfileStore(p *profile.Profile) (store.Store, error) {
	name, err := s.ProfileStoreName(p)
	if err != nil {
		return nil, err
	}
	return s.d.OpenStore(name)
}

// Probe checks the store answers, so a sign-in is not wasted on a store
// that cannot keep its result.
func Probe(st store.Store) error {
	if p, ok := st.(interface{ Probe() error }); ok {
		return p.Probe()
	}
	return nil
}

// Move is what MoveStore did.
type Move struct {
	From    string // the store the profile was in
	Already bool   // it was already in the target store: nothing was done
	// Leftover says the old copy could not be removed from From; the
	// move itself succeeded.
	Leftover error
}

// MoveStore moves profile name's tokens (and client secret) to the store
// named to, without signing in again: copied and read back, then the
// settings switch, and only then are they deleted from the source. A
// failure at any step leaves the profile working where it was.
func (s *Service) MoveStore(ctx context.Context, name, to string) (*Move, error) {
	// Under the profile's lock from the start: a refresh during the move
	// would rotate the tokens in the source after they were copied, and
	// settings read before a re-link finished would be written back over it.
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := s.Profile(name)
	if err != nil {
		return nil, err
	}
	m := &Move{From: p.Store}
	if m.From == "" {
		m.From = StoreKeyring
	}
	if m.From == to {
		m.Already = true
		return m, nil
	}
	src, err := s.d.OpenStore(m.From)
	if err != nil {
		return nil, err
	}
	dst, err := s.d.OpenStore(to)
	if err != nil {
		return nil, err
	}
	if err := Probe(dst); err != nil {
		return nil, fmt.Errorf("cannot move to the %s store (nothing was changed): %w", to, err)
	}
	rec, err := src.Load(p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &SignInRequiredError{Profile: p.Name, Reason: fmt.Sprintf("the %s store holds no tokens for it, so there is nothing to move", m.From)}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read profile %q from the %s store (nothing was changed): %w", p.Name, m.From, err)
	}
	secret := ""
	if p.Confidential {
		if secret, err = src.LoadSecret(p.Name); err != nil {
			return nil, fmt.Errorf("cannot read the client secret of profile %q from the %s store (nothing was changed): %w", p.Name, m.From, err)
		}
	}
	if err := copyProfile(dst, p.Name, rec, secret); err != nil {
		dropCopy(dst, p.Name)
		return nil, fmt.Errorf("could not copy profile %q to the %s store (it stays in the %s store): %w", p.Name, to, m.From, err)
	}
	p.Store = to
	if err := s.d.Settings.Save(p); err != nil {
		dropCopy(dst, p.Name)
		return nil, fmt.Errorf("could not save the settings (profile %q stays in the %s store): %w", p.Name, m.From, err)
	}
	m.Leftover = errors.Join(src.Delete(p.Name), src.DeleteSecret(p.Name))
	return m, nil
}

// copyProfile saves the record (and secret) to st and reads them back.
func copyProfile(st store.Store, name string, rec *store.Record, secret string) error {
	want, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := st.Save(name, rec); err != nil {
		return err
	}
	back, err := st.Load(name)
	if err != nil {
		return fmt.Errorf("reading the copy back: %w", err)
	}
	if got, err := json.Marshal(back); err != nil || string(got) != string(want) {
		return errors.New("the copy read back differs from the original")
	}
	if secret == "" {
		return st.DeleteSecret(name) // no stale secret from an earlier stay
	}
	if err := st.SaveSecret(name, secret); err != nil {
		return err
	}
	got, err := st.LoadSecret(name)
	if err != nil {
		return fmt.Errorf("reading the client secret back: %w", err)
	}
	if got != secret {
		return errors.New("the client secret read back differs from the original")
	}
	return nil
}

// dropCopy removes what a failed move may have copied; best effort.
func dropCopy(st store.Store, name string) {
	st.Delete(name)
	st.DeleteSecret(name)
}
