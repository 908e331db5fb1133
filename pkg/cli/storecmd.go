package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
)

var storeNames = account.StoreNames

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
			if err := account.CheckStoreName(o.To); err != nil {
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
	m, err := env.account().MoveStore(ctx, o.Profile, o.To)
	if err != nil {
		return err
	}
	if m.Already {
		fmt.Fprintf(env.Err, "Profile %q is already in the %s store.\n", o.Profile, m.From)
		return nil
	}
	if m.Leftover != nil {
		fmt.Fprintf(env.Err, "warning: profile %q now uses the %s store, but its old copy could not be removed from the %s store: %v\n", o.Profile, o.To, m.From, m.Leftover)
	}
	fmt.Fprintf(env.Err, "Moved profile %q from the %s store to the %s store.\n", o.Profile, m.From, o.To)
	return nil
}
