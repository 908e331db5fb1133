package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// Store names, as --store, MS365AUTH_STORE and a profile's "store" setting
// spell them.
const (
	storeKeyring = "keyring"
	storeFile    = "file"
	envStore     = "MS365AUTH_STORE"
)

var storeNames = []string{storeKeyring, storeFile}

// lookup is env.Getenv, tolerating an Env without one (unit tests).
func (env *Env) lookup(key string) string {
	if env.Getenv == nil {
		return ""
	}
	return env.Getenv(key)
}

func unknownStore(name string) error {
	return fmt.Errorf("unknown store %q: use %q or %q", name, storeKeyring, storeFile)
}

func checkStoreName(name string) error {
	if !slices.Contains(storeNames, name) {
		return unknownStore(name)
	}
	return nil
}

// chooseStore names the store link keeps a profile in. The decision rule,
// first that applies: --store; MS365AUTH_STORE; the store the profile
// already uses; "" (the keyring). Only a choice selects the file store:
// a keyring that cannot be reached is an error, never a reason to write
// tokens to files instead.
func chooseStore(env *Env, flag, remembered string) (string, error) {
	for _, name := range []string{flag, env.lookup(envStore)} {
		if name != "" {
			return name, checkStoreName(name)
		}
	}
	return remembered, nil
}

// profileStoreName names the store that holds a linked profile's tokens:
// the one its settings name. A profile whose settings name none (or that
// has no settings) uses MS365AUTH_STORE, else the keyring. MS365AUTH_STORE
// naming a different store than the settings is an error rather than a
// switch: the tokens are where the settings say, and "store move" moves
// them.
func profileStoreName(env *Env, p *profile.Profile) (string, error) {
	wanted := env.lookup(envStore)
	if wanted != "" {
		if err := checkStoreName(wanted); err != nil {
			return "", fmt.Errorf("%s: %w", envStore, err)
		}
	}
	remembered := ""
	if p != nil {
		remembered = p.Store
	}
	switch {
	case remembered == "" && wanted == "":
		return storeKeyring, nil
	case remembered == "":
		return wanted, nil
	case wanted != "" && wanted != remembered:
		return "", fmt.Errorf("profile %q keeps its tokens in the %s store, but %s=%s: unset %s, move the profile with: ms365auth store move --to %s%s, or link it again there: ms365auth link --store %s%s",
			p.Name, remembered, envStore, wanted, envStore, wanted, profileFlag(p.Name), wanted, profileFlag(p.Name))
	}
	return remembered, nil
}

// openProfileStore opens the store that holds a linked profile's tokens.
func openProfileStore(env *Env, p *profile.Profile) (store.Store, error) {
	name, err := profileStoreName(env, p)
	if err != nil {
		return nil, err
	}
	return env.OpenStore(name)
}

func newStoreCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Where tokens are kept: the OS keyring or files",
		Long: `Profiles keep their tokens in the OS keyring (the default) or in the file store:
files 0600 in a 0700 directory under $XDG_STATE_HOME/ms365auth/store, encrypted
with a passphrase when MS365AUTH_STORE_PASSPHRASE or
MS365AUTH_STORE_PASSPHRASE_FILE is set.

The store is chosen when linking: --store, else MS365AUTH_STORE, else the
store the profile already uses, else the keyring. It is never chosen for
you: when the keyring cannot be used, ms365auth says so and stops.`,
	}
	commandGroup(cmd)
	cmd.AddCommand(newStoreMoveCmd(env))
	return cmd
}

type storeMoveOptions struct {
	Profile string
	To      string
}

func newStoreMoveCmd(env *Env) *cobra.Command {
	o := &storeMoveOptions{}
	cmd := &cobra.Command{
		Use:   "move --to keyring|file",
		Short: "Move a profile's tokens to another store, without signing in again",
		Long: `Move a profile's tokens (and client secret) to another store, without signing in again.

The tokens are copied to the target store and read back, then the profile's
settings switch to it, and only then are they deleted from the source. A
failure at any step leaves the profile working where it was.`,
		Example: `  ms365auth store move --to file
  MS365AUTH_STORE_PASSPHRASE_FILE=~/.config/ms365auth/passphrase ms365auth store move --to file --profile work
  ms365auth store move --to keyring`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			if o.To == "" {
				return fmt.Errorf("--to is required: %s", strings.Join(storeNames, " or "))
			}
			if err := checkStoreName(o.To); err != nil {
				return err
			}
			return storeMoveRun(cmd.Context(), env, o)
		},
	}
	cmd.Flags().StringVar(&o.To, "to", "", "the store to move to: keyring or file")
	cmd.RegisterFlagCompletionFunc("to", cobra.FixedCompletions(storeNames, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func storeMoveRun(ctx context.Context, env *Env, o *storeMoveOptions) error {
	// Under the profile's lock from the start: a refresh during the move
	// would rotate the tokens in the source after they were copied, and
	// settings read before a re-link finished would be written back over it.
	unlock, err := lockProfile(ctx, o.Profile)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := loadProfile(o.Profile)
	if err != nil {
		return err
	}
	from := p.Store
	if from == "" {
		from = storeKeyring
	}
	if from == o.To {
		fmt.Fprintf(env.Err, "Profile %q is already in the %s store.\n", p.Name, from)
		return nil
	}
	src, err := env.OpenStore(from)
	if err != nil {
		return err
	}
	dst, err := env.OpenStore(o.To)
	if err != nil {
		return err
	}
	if err := probe(dst); err != nil {
		return fmt.Errorf("cannot move to the %s store (nothing was changed): %w", o.To, err)
	}
	rec, err := src.Load(p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return &SignInRequiredError{Profile: p.Name, Reason: fmt.Sprintf("the %s store holds no tokens for it, so there is nothing to move", from)}
	}
	if err != nil {
		return fmt.Errorf("cannot read profile %q from the %s store (nothing was changed): %w", p.Name, from, err)
	}
	secret := ""
	if p.Confidential {
		if secret, err = src.LoadSecret(p.Name); err != nil {
			return fmt.Errorf("cannot read the client secret of profile %q from the %s store (nothing was changed): %w", p.Name, from, err)
		}
	}
	if err := copyProfile(dst, p.Name, rec, secret); err != nil {
		dropCopy(dst, p.Name)
		return fmt.Errorf("could not copy profile %q to the %s store (it stays in the %s store): %w", p.Name, o.To, from, err)
	}
	p.Store = o.To
	if err := saveProfile(p); err != nil {
		dropCopy(dst, p.Name)
		return fmt.Errorf("could not save the settings (profile %q stays in the %s store): %w", p.Name, from, err)
	}
	if err := errors.Join(src.Delete(p.Name), src.DeleteSecret(p.Name)); err != nil {
		fmt.Fprintf(env.Err, "warning: profile %q now uses the %s store, but its old copy could not be removed from the %s store: %v\n", p.Name, o.To, from, err)
	}
	fmt.Fprintf(env.Err, "Moved profile %q from the %s store to the %s store.\n", p.Name, from, o.To)
	return nil
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
