package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
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
	r := env.account().LogoutAll(ctx, cfg, cfg.Select(o.Profile, o.All), o.Forget, o.All)
	for _, name := range r.LoggedOut {
		fmt.Fprintf(env.Err, "Logged out of profile %q.\n", name)
	}
	if len(r.Forgotten) > 0 {
		fmt.Fprintf(env.Err, "Forgot the settings of %s.\n", quotedList(r.Forgotten))
	}
	if len(r.Errs) > 0 {
		return errors.New(strings.Join(r.Errs, "\n"))
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
