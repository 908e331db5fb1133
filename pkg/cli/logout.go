package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
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
without them; --forget removes the settings too.

A profile logged out already is not linked: logout says so and exits 1
(--all passes over it). Forgetting its settings needs no keyring.`,
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
	var errs, forget []string
	for _, name := range cfg.Select(o.Profile, o.All) {
		err := env.account().Logout(ctx, name)
		var nl *account.NotLinkedError
		switch {
		case err == nil:
			fmt.Fprintf(env.Err, "Logged out of profile %q.\n", name)
		case errors.As(err, &nl) && nl.HasSettings && (o.Forget || o.All):
			// Already logged out: what is left is the settings.
		case o.Forget && cfg.Get(name) != nil && errors.As(err, new(*store.UnavailableError)):
			// Forgetting the settings needs no keyring; tokens it may
			// still hold stay reachable by name (logout removes them).
			errs = append(errs, fmt.Sprintf("profile %q: its settings are forgotten, but tokens it may hold could not be removed: %v\nonce the keyring is back, remove them with: ms365auth logout%s", name, err, profileFlag(name)))
		default:
			errs = append(errs, fmt.Sprintf("profile %q: %v", name, err))
			continue
		}
		forget = append(forget, name)
	}
	if o.Forget && len(forget) > 0 {
		if err := env.account().Forget(forget); err != nil {
			errs = append(errs, err.Error())
		} else {
			fmt.Fprintf(env.Err, "Forgot the settings of %s.\n", quotedList(forget))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// quotedList writes names as "a", "b".
func quotedList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(quoted, ", ")
}
