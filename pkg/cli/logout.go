package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

type logoutOptions struct {
	Profile string
	All     bool
	Forget  bool
}

func newLogoutCmd(env *Env) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Remove a profile's tokens and client secret from the store",
		Long: `Remove a profile's tokens and client secret from the store. Its settings
(client ID, tenant, scopes, method) stay, so "ms365auth link" can sign in again
without them; --forget removes the settings too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			return logoutRun(cmd.Context(), env, o)
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "every profile")
	cmd.Flags().BoolVar(&o.Forget, "forget", false, "also remove the profile's settings")
	return cmd
}

func logoutRun(ctx context.Context, env *Env, o *logoutOptions) error {
	cfg, err := env.account().Settings().Load()
	if err != nil {
		return err
	}
	var errs, forgotten []string
	for _, name := range cfg.Select(o.Profile, o.All) {
		if err := logoutOne(ctx, env, cfg.Get(name), name); err != nil {
			errs = append(errs, fmt.Sprintf("profile %q: %v", name, err))
			continue
		}
		forgotten = append(forgotten, name)
		fmt.Fprintf(env.Err, "Logged out of profile %q.\n", name)
	}
	if o.Forget && len(forgotten) > 0 {
		if err := env.account().Settings().Update(func(c *profile.Config) {
			for _, name := range forgotten {
				c.Remove(name)
			}
		}); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// logoutOne removes a profile's secrets under its lock, so that a refresh
// running meanwhile cannot save them back.
func logoutOne(ctx context.Context, env *Env, p *profile.Profile, name string) error {
	// The lock first, then the store: a move finishing meanwhile has
	// switched the settings that p was read from.
	unlock, err := env.account().Lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if p != nil {
		if p, _, err = env.account().Settings().Get(name); err != nil {
			return err
		}
	}
	st, err := openProfileStore(env, p)
	if err != nil {
		return err
	}
	if p == nil {
		// No settings: a typo, unless tokens were left without them.
		// A record that exists but cannot be read is still removed.
		_, err := st.Load(name)
		var ue *store.UnavailableError
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errors.New("nothing is linked to this profile, so nothing was removed; ms365auth status --all lists the profiles")
		case errors.As(err, &ue):
			return ue.WithoutFileStoreHint()
		}
	}
	// One failure is enough: a keyring that is unavailable for the tokens
	// is unavailable for the secret too.
	if err := st.Delete(name); err != nil {
		return forRemoval(err)
	}
	if err := st.DeleteSecret(name); err != nil {
		return forRemoval(err)
	}
	env.account().DropPending(name)
	return nil
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
