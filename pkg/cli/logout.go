package cli

import (
	"errors"
	"fmt"
	"os"

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
without them; --forget removes the settings too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			return logoutRun(env, o)
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "every profile")
	cmd.Flags().BoolVar(&o.Forget, "forget", false, "also remove the profile's settings")
	return cmd
}

func logoutRun(env *Env, o *logoutOptions) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	names := selectProfiles(cfg, o.Profile, o.All)
	var errs []error
	for _, name := range names {
		st, err := openProfileStore(env, cfg.Get(name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := errors.Join(st.Delete(name), st.DeleteSecret(name)); err != nil {
			errs = append(errs, fmt.Errorf("profile %q: %w", name, err))
			continue
		}
		if path, err := pendingPath(name); err == nil {
			os.Remove(path)
		}
		if o.Forget {
			cfg.Remove(name)
		}
		fmt.Fprintf(env.Err, "Logged out of profile %q.\n", name)
	}
	if o.Forget {
		errs = append(errs, cfg.Save())
	}
	return errors.Join(errs...)
}
