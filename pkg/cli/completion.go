package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// Authority hosts of the clouds Entra ID runs in (Microsoft's national
// clouds: learn.microsoft.com/entra/identity-platform/authentication-national-cloud),
// offered when completing --authority-host.
var cloudHosts = []string{
	entra.DefaultAuthorityHost + "\tglobal Azure (default)",
	"https://login.microsoftonline.us\tAzure US Government",
	"https://login.partner.microsoftonline.cn\tAzure operated by 21Vianet (China)",
}

var tenantWords = []string{
	"common\twork, school and personal accounts (default)",
	"organizations\twork and school accounts only",
	"consumers\tpersonal Microsoft accounts only",
}

var redirectURIs = []string{
	entra.NativeClientRedirectURI + "\tprimary method (default)",
	entra.MFARedirectURI + "\tfor accounts whose MFA needs it",
	DefaultAltRedirectURI + "\twith --alt (default)",
}

// registerCompletions teaches cobra's completion command (bash, zsh, fish,
// PowerShell) the values of flags: profile names from the settings file,
// and the fixed vocabularies of --scopes, --tenant, --authority-host and
// --redirect-uri. Completion never offers file names for these flags.
func registerCompletions(env *Env, root *cobra.Command) {
	root.RegisterFlagCompletionFunc("profile", completeProfiles(env))
	fixed := map[string][]string{"tenant": tenantWords, "authority-host": cloudHosts, "redirect-uri": redirectURIs}
	for _, c := range root.Commands() {
		for flag, words := range fixed {
			if c.Flags().Lookup(flag) != nil {
				c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		for _, flag := range []string{"scopes", "remove-scopes"} {
			if c.Flags().Lookup(flag) != nil {
				c.RegisterFlagCompletionFunc(flag, completeScopes)
			}
		}
	}
}

// completeProfiles lists the profiles in the settings file. A file that
// cannot be read completes to nothing: completion is no place for errors.
func completeProfiles(env *Env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		cfg, err := env.account().Settings().Load()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, n := range cfg.Names() {
			if strings.HasPrefix(n, toComplete) {
				names = append(names, n)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeScopes completes the last item of a comma-separated list with the
// feature names not yet in it (entra.CompleteFeatureList). No space
// follows, so that another comma can.
func completeScopes(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return entra.CompleteFeatureList(toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
