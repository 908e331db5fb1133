package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/manual"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// NewRootCmd builds the command tree.
func NewRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "ms365auth",
		Short: "Link a Microsoft 365 account and hand out fresh access tokens",
		Long: `ms365auth links a Microsoft 365 (Entra ID) account, keeps its OAuth tokens in the
operating system's keyring (or in files), and hands fresh access tokens to people
and scripts.

` + newHere,
		SilenceUsage:  true,
		SilenceErrors: true,
		// The real version is read from the build info only when asked
		// for: parsing it costs every other command start-up time.
		Version: "from build info",
	}
	// The commands come first in the root's help, where a newcomer looks;
	// the reference tables (environment, files) are a help topic of their
	// own, as gh has them, written out only for the help that shows them:
	// wrapping them to the width costs a tenth of a millisecond, which every
	// other command, token included, would pay at start-up.
	environment := &cobra.Command{
		Use:   "environment",
		Short: "Exit codes, environment variables and files",
	}
	root.AddCommand(environment)
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if c == environment && c.Long == "" {
			c.Long = manual.Text()
		}
		help(c, args)
		if c == root {
			fmt.Fprintf(c.OutOrStdout(), "\nExit codes: %s.\nEnvironment variables and files: ms365auth help environment\n", manual.ExitSummary())
		}
	})
	// A mistyped flag or argument: say where the right ones are.
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (%s --help lists the flags)", err, cmd.CommandPath())
	})
	commandGroup(root)
	// A command group runs only to refuse an unknown subcommand: its usage
	// shows "ms365auth store [command]", not also "ms365auth store [flags]".
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "{{if .Runnable}}", "{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	cobra.AddTemplateFunc("buildVersion", version)
	root.SetVersionTemplate("ms365auth {{buildVersion}}\n")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return profile.ValidateName(profileName(cmd))
	}
	defaultProfile := env.Getenv("MS365AUTH_PROFILE")
	if defaultProfile == "" {
		defaultProfile = profile.DefaultName
	}
	root.PersistentFlags().StringP("profile", "p", defaultProfile, "profile to use (env MS365AUTH_PROFILE)")
	root.AddCommand(
		newLinkCmd(env),
		newStatusCmd(env),
		newReauthCmd(env),
		newTokenCmd(env),
		newAPICmd(env),
		newLogoutCmd(env),
		newDoctorCmd(env),
		newStoreCmd(env),
	)
	registerCompletions(env, root)
	root.InitDefaultCompletionCmd() // cobra's, added now to make it a group too
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			commandGroup(c)
		}
	}
	return root
}

// newHere is the root help's pointer to where a newcomer starts: a
// rehearsal against the sandbox, with no Microsoft account needed.
const newHere = "New here? ms365auth link --sandbox"

// profileName is the --profile value, validated by the root command before
// any command runs.
func profileName(cmd *cobra.Command) string {
	name, _ := cmd.Flags().GetString("profile")
	return name
}

// commandGroup makes a command that only holds subcommands refuse an
// unknown one (exit 1); cobra would print the help and exit 0 for any but
// the root, so a script's typo would pass for success.
func commandGroup(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2 // cobra's own default for the root
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += ": did you mean " + strings.Join(s, " or ") + "?"
		}
		return fmt.Errorf("%s (%s --help lists the commands)", msg, cmd.CommandPath())
	}
}
