package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/termio"
	"github.com/ms365auth/ms365auth/pkg/tokenlife"
)

type statusOptions struct {
	Profile string
	All     bool
	JSON    bool
}

func newStatusCmd(env *Env) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what is linked and whether it is usable",
		Long: `Show what is linked and whether its tokens are usable, without contacting Entra ID.

States: valid (usable now), expired (a refresh token will renew it),
needs_reauth (a person must sign in: run "ms365auth reauth"), not_linked,
and unreadable (linked, but the record cannot be opened here, e.g. the file
store's passphrase is missing or wrong; the fix is shown).
For the file store, "encrypted" says whether the record is encrypted.
Tokens that "token --scopes" keeps for other resources (e.g. Outlook for
IMAP and SMTP) are listed with their expiry ("other_tokens" in --json).
A refresh token unused for 90 days is refused by Entra, so past that
the state is needs_reauth. From 14 days before, status warns (a "warnings"
list in --json) and names the command that renews it.
A Conditional Access sign-in frequency ends a session sooner, whatever the
refreshes: once Entra has named it (AADSTS70043), status shows the session's
end ("session_ends_at", "session_end_reason", "sign_in_frequency_s") and
warns over its last fifth. For servers other than Microsoft's the refresh
token's lifetime is unknown ("lifetime_unknown") unless they say it.
Exit status: 0 when usable, 3 when a person must sign in, 1 on other errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			return statusRun(env, o)
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "show every profile")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON on standard output")
	return cmd
}

func statusRun(env *Env, o *statusOptions) error {
	cfg, err := env.account().Settings().Load()
	if err != nil {
		return err
	}
	now := env.Now()
	list := env.account().Describe(cfg, cfg.Select(o.Profile, o.All))
	worst := ExitOK
	for _, s := range list {
		worst = max(worst, statusExit(s))
	}
	if o.JSON {
		enc := json.NewEncoder(env.Out)
		enc.SetIndent("", "  ")
		var v any = list
		if !o.All {
			v = list[0]
		} else if list == nil {
			v = []account.Status{}
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		printStatus(env, list, now)
		if !o.All {
			printOtherProfiles(env, cfg, o.Profile)
		}
	}
	if worst != ExitOK {
		return silentExit(worst)
	}
	return nil
}

func statusExit(s account.Status) int {
	switch {
	case s.Error != "" || s.State == account.StateUnreadable:
		return ExitError
	case s.State == account.StateNeedsReauth || s.State == account.StateNotLinked:
		return ExitSignIn
	}
	return ExitOK
}

// warnRefreshTokenEnding prints one line on stderr when the refresh token
// has fewer than tokenlife.UrgentDays left. A refresh that succeeded has
// restarted its clock, so this speaks only when none happened or it failed.
func warnRefreshTokenEnding(env *Env, p *profile.Profile, rec *store.Record) {
	if w := account.RefreshTokenWarning(p, rec, env.Now()); w != "" {
		fmt.Fprintln(env.Err, "warning: "+w)
	}
}

// storeText says where the tokens are and, for the file store, whether
// they are encrypted.
func storeText(s account.Status) string {
	switch {
	case s.Encrypted == nil:
		return s.Store
	case *s.Encrypted:
		return s.Store + ", encrypted with a passphrase"
	case s.PassphraseSet:
		write := "ms365auth reauth" + profileFlag(s.Profile)
		if s.Sandbox {
			write = "ms365auth link --sandbox" // the ended sandbox cannot refresh
		}
		return s.Store + ", not encrypted yet (its next write encrypts it: " + write + ")"
	}
	return s.Store + ", not encrypted (to encrypt it, set " + store.EnvPassphraseFile + " or " + store.EnvPassphrase + ")"
}

func printStatus(env *Env, list []account.Status, now time.Time) {
	if len(list) == 0 {
		fmt.Fprintln(env.Out, "No profiles yet. Link one with: ms365auth link --client-id <application ID>")
		return
	}
	var style termio.Styler // styles what goes to stdout only when stdout is a terminal
	if f, ok := env.Out.(*os.File); ok {
		style = termio.NewStyler(f, env.Getenv)
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(env.Out)
		}
		title := s.Profile
		if s.Sandbox {
			title += " (sandbox: a local stand-in, not Microsoft)"
		}
		fmt.Fprintln(env.Out, style.Bold(title))
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(env.Out, "  %-14s %s\n", k+":", v)
			}
		}
		if s.Error != "" {
			row("error", s.Error)
			continue
		}
		if s.State == account.StateUnreadable {
			row("state", style.Red("unreadable")+": "+s.Reason)
			row("fix", s.Fix)
			row("store", storeText(s))
			continue
		}
		if !s.Linked {
			row("state", "not linked")
			row("fix", s.Fix)
			continue
		}
		row("account", account.AccountLabel(s.Account, s.Name))
		row("state", describeState(s, now, style))
		row("fix", s.Fix)
		row("tenant", s.TenantID)
		row("client id", s.ClientID)
		row("authority", s.Authority)
		row("method", s.Method)
		row("redirect uri", s.RedirectURI)
		// What the profile asks for, and what the last token granted: Entra
		// also grants what it was given consent for earlier.
		row("requested", strings.Join(entra.ResourceScopes(s.RequestedScopes), " "))
		granted := strings.Join(s.Scopes, " ")
		if s.ScopesAsRequested {
			granted += " (as requested: the server did not list them)"
		}
		row("granted", granted)
		for _, t := range s.OtherTokens {
			row("other token", describeOtherToken(t, now))
		}
		switch {
		case s.State == account.StateNeedsReauth && s.RefreshToken:
			row("refresh token", "yes, but it no longer works")
		case s.RefreshTokenDaysLeft != nil:
			row("refresh token", fmt.Sprintf("yes, dies after %d more days unused", *s.RefreshTokenDaysLeft))
		case s.LifetimeUnknown:
			row("refresh token", "yes, lifetime unknown (not Microsoft's authority, and the server does not say)")
		case !s.RefreshToken:
			row("refresh token", "none")
		}
		if s.SessionEndsAt != nil && s.SessionEndReason != string(tokenlife.Inactivity) {
			row("session ends", s.SessionEndsAt.Local().Format(time.RFC1123)+" ("+sessionEndText(s)+")")
		}
		if s.LinkedAt != nil {
			row("linked", s.LinkedAt.Local().Format(time.RFC1123))
		}
		if s.LastRefreshAt != nil {
			row("last refresh", s.LastRefreshAt.Local().Format(time.RFC1123))
		}
		row("store", storeText(s))
		for _, w := range s.Warnings {
			row("warning", style.Yellow(w))
		}
	}
}

// printOtherProfiles names the profiles a bare status did not show, so
// that a newcomer who linked "sandbox" or "work" does not read "not
// linked" as the whole story.
func printOtherProfiles(env *Env, cfg *profile.Config, shown string) {
	var others []string
	for _, name := range cfg.Names() {
		if name != shown {
			others = append(others, name)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(env.Out, "\nOther profiles: %s (all of them: ms365auth status --all)\n", strings.Join(others, ", "))
	}
}

// sessionEndText says what ends the session at s.SessionEndsAt.
func sessionEndText(s account.Status) string {
	if s.SessionEndReason == string(tokenlife.SignInFrequency) {
		return "sign-in frequency of " + account.Roughly(time.Duration(s.SignInFrequencySeconds)*time.Second) + " set by Conditional Access; no refresh extends it"
	}
	return "the server's refresh token lifetime"
}

func describeState(s account.Status, now time.Time, style termio.Styler) string {
	switch s.State {
	case account.StateValid:
		return style.Green("valid") + " (access token expires in " + account.Roughly(s.AccessTokenExpiresAt.Sub(now)) + ")"
	case account.StateExpired:
		return style.Yellow("expired") + " (the refresh token will renew it)"
	default:
		reason := s.Reason
		if reason == "" {
			reason = "sign in again"
		}
		return style.Red("needs sign-in") + ": " + reason // the fix row says what to run
	}
}

func describeOtherToken(t account.OtherToken, now time.Time) string {
	var names []string
	for _, sc := range t.Scopes {
		names = append(names, strings.TrimPrefix(sc, t.Resource+"/"))
	}
	what := t.Resource + " (" + strings.Join(names, " ") + ")"
	if t.Valid {
		return what + ", expires in " + account.Roughly(t.ExpiresAt.Sub(now))
	}
	return what + ", expired (the next token --scopes renews it)"
}
