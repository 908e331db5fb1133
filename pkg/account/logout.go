package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// NotLinkedError is what Logout meets when there is nothing to remove: a
// profile never linked, or logged out already.
type NotLinkedError struct {
	Profile string
	// HasSettings says the settings file still knows the profile (a
	// logout without --forget keeps them).
	HasSettings bool
}

func (e *NotLinkedError) Error() string {
	if e.HasSettings {
		again := "ms365auth link" + ProfileFlag(e.Profile)
		if e.Profile == profile.SandboxName {
			again = "ms365auth link --sandbox"
		}
		return "it is not linked (it was logged out), so nothing was removed; sign in again with: " + again
	}
	return "nothing is linked to this profile, so nothing was removed; ms365auth status --all lists the profiles"
}

// Logout removes profile name's tokens and client secret, under its lock
// so that a refresh running meanwhile cannot save them back, and notes in
// the settings that it is logged out: a second logout, or forgetting the
// settings, then needs no store (a keyring may be out of reach by then).
// Nothing to remove is a *NotLinkedError. Tokens left in a store without
// settings are removed too.
func (s *Service) Logout(ctx context.Context, name string) error {
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	// Read under the lock: a move finishing meanwhile switches the store.
	p, _, err := s.d.Settings.Get(name)
	if err != nil {
		return err
	}
	if p != nil && p.LoggedOut {
		return &NotLinkedError{Profile: name, HasSettings: true}
	}
	st, err := s.OpenProfileStore(p)
	if err != nil {
		return err
	}
	// A record that exists but cannot be read is still removed.
	_, err = st.Load(name)
	gone := errors.Is(err, store.ErrNotFound)
	if isUnavailable(err) {
		return forRemoval(err)
	}
	// One failure is enough: a keyring that is unavailable for the tokens
	// is unavailable for the secret too.
	if err := st.Delete(name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return forRemoval(err)
	}
	if err := st.DeleteSecret(name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return forRemoval(err)
	}
	s.DropPending(name)
	if p != nil {
		if err := s.d.Settings.Update(func(c *profile.Config) {
			if cur := c.Get(name); cur != nil {
				cur.LoggedOut = true
			}
		}); err != nil {
			return fmt.Errorf("the tokens were removed, but the settings could not be saved: %w", err)
		}
	}
	if gone {
		return &NotLinkedError{Profile: name, HasSettings: p != nil}
	}
	return nil
}

// Logouts is what logging out several profiles came to.
type Logouts struct {
	LoggedOut []string // profiles whose tokens were removed now
	Forgotten []string // profiles whose settings were removed
	Errs      []string // one message for each profile that failed, then for forgetting
}

// LogoutAll logs out the named profiles of cfg (Logout), and with forget
// removes their settings too. A profile logged out already is no failure
// when its settings are to go (forget, or all of them), and a keyring out
// of reach does not keep forget from removing the settings: the message
// says how to remove the tokens once it is back.
func (s *Service) LogoutAll(ctx context.Context, cfg *profile.Config, names []string, forget, all bool) *Logouts {
	r := &Logouts{}
	var drop []string
	for _, name := range names {
		err := s.Logout(ctx, name)
		var nl *NotLinkedError
		switch {
		case err == nil:
			r.LoggedOut = append(r.LoggedOut, name)
		case errors.As(err, &nl) && nl.HasSettings && (forget || all):
			// Already logged out: what is left is the settings.
		case forget && cfg.Get(name) != nil && isUnavailable(err):
			// Forgetting the settings needs no keyring; tokens it may
			// still hold stay reachable by name (logout removes them).
			r.Errs = append(r.Errs, fmt.Sprintf("profile %q: its settings are forgotten, but tokens it may hold could not be removed: %v\nonce the keyring is back, remove them with: ms365auth logout%s", name, err, ProfileFlag(name)))
		default:
			r.Errs = append(r.Errs, fmt.Sprintf("profile %q: %v", name, err))
			continue
		}
		drop = append(drop, name)
	}
	if forget && len(drop) > 0 {
		if err := s.Forget(drop); err != nil {
			r.Errs = append(r.Errs, err.Error())
		} else {
			r.Forgotten = drop
		}
	}
	return r
}

// Forget removes the named profiles' settings; it needs no store.
func (s *Service) Forget(names []string) error {
	return s.d.Settings.Update(func(c *profile.Config) {
		for _, name := range names {
			c.Remove(name)
		}
	})
}

func isUnavailable(err error) bool {
	var ue *store.UnavailableError
	return errors.As(err, &ue)
}

// forRemoval fits a store error to removing tokens: the way out of keeping
// them in files instead does not reach the tokens already in the keyring.
func forRemoval(err error) error {
	var ue *store.UnavailableError
	if errors.As(err, &ue) {
		return ue.WithoutFileStoreHint()
	}
	return err
}
