package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

type linkOptions struct {
	Profile       string
	ClientID      string
	Tenant        string
	AuthorityHost string
	Scopes        []string
	RedirectURI   string
	Method        string
	NoBrowser     bool
	ReturnedURL   string
	PrintLink     bool
	SecretFile    string
	Confidential  bool
	Public        bool
	Sandbox       bool
	Alt           bool
	Device        bool
	Listen        string
	TLSCert       string
	TLSKey        string
	Store         string
	Timeout       time.Duration
	Force         bool
	NoCheck       bool
}

func newLinkCmd(env *Env) *cobra.Command {
	o := &linkOptions{}
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Sign in and link a Microsoft 365 account to a profile",
		Long: `Sign in and link a Microsoft 365 account to a profile.

The default (primary) method prints a sign-in link and opens it; after you
sign in and accept, the browser lands on a blank page. Copy the whole URL
from its address bar and paste it back. The app registration must have the
redirect URI ` + entra.NativeClientRedirectURI + `
under "Mobile and desktop applications". Some accounts with multi-factor
authentication also need ` + entra.MFARedirectURI + `
(pass it with --redirect-uri).

In scripts, pipe the returned URL on standard input, or split the sign-in in
two steps: "link --print-link" prints the link, "link --returned-url URL"
finishes it (within 10 minutes); a confidential app's client secret goes to
the second run.

Try it without an account: ms365auth link --sandbox`,
		Example: `  ms365auth link --client-id 00000000-0000-0000-0000-000000000000 --scopes calendar,mail
  ms365auth link --tenant contoso.onmicrosoft.com --redirect-uri ` + entra.MFARedirectURI + `
  ms365auth link --sandbox`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			if o.Sandbox {
				if cmd.Flags().Changed("profile") && o.Profile != profile.SandboxName {
					return fmt.Errorf("--sandbox always uses the profile %q", profile.SandboxName)
				}
				if o.Alt || o.Device {
					return errors.New("the sandbox shows the primary method only: drop --alt and --device")
				}
				if o.PrintLink || o.ReturnedURL != "" {
					return errors.New("the sandbox's stand-in for Entra ID ends with its run, so a sign-in cannot be split over two: drop --print-link and --returned-url")
				}
				o.Profile = profile.SandboxName
			} else if o.Profile == profile.SandboxName {
				return fmt.Errorf("the profile %q is kept for --sandbox: choose another name", profile.SandboxName)
			}
			if o.Confidential && o.Public {
				return errors.New("--confidential and --public contradict each other: pick one")
			}
			if err := o.chooseMethod(profile.MethodPaste); err != nil {
				return err
			}
			if (o.PrintLink || o.ReturnedURL != "") && o.Method != profile.MethodPaste {
				return errors.New("--print-link and --returned-url belong to the primary method, not --alt or --device")
			}
			if o.PrintLink && o.ReturnedURL != "" {
				return errors.New("--print-link starts a sign-in and --returned-url finishes one: use them in two separate runs")
			}
			return linkRun(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ClientID, "client-id", "", "application (client) ID of the app registration (required the first time)")
	f.StringVar(&o.Tenant, "tenant", "", `tenant: "common" (default), "organizations", "consumers", a tenant ID or domain`)
	f.StringVar(&o.AuthorityHost, "authority-host", "", "authority host (env MS365AUTH_AUTHORITY_HOST; default "+entra.DefaultAuthorityHost+")")
	f.StringSliceVar(&o.Scopes, "scopes", nil, "scopes or features, space or comma separated (e.g. calendar,mail-send or Calendars.Read; default: the profile's, else User.Read); offline_access openid profile are always added")
	f.StringVar(&o.RedirectURI, "redirect-uri", "", "redirect URI registered for the app (default "+entra.NativeClientRedirectURI+")")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "only print the sign-in link; do not open a browser")
	f.StringVar(&o.ReturnedURL, "returned-url", "", "finish a sign-in started with --print-link with the URL the browser landed on; - reads it from standard input, out of the process list")
	f.BoolVar(&o.PrintLink, "print-link", false, "print the sign-in link on standard output and exit; finish with --returned-url")
	f.StringVar(&o.SecretFile, "client-secret-file", "", "read the client secret of a confidential app from this file (or set MS365AUTH_CLIENT_SECRET)")
	f.BoolVar(&o.Confidential, "confidential", false, "the app is confidential: ask for its client secret without echo")
	f.BoolVar(&o.Public, "public", false, "the app is public: forget a client secret kept for this profile")
	f.BoolVar(&o.Alt, "alt", false, "alternate method: a callback listener receives the redirect (default redirect URI "+DefaultAltRedirectURI+" on a free port)")
	f.BoolVar(&o.Device, "device", false, "device code sign-in: enter a code on any device's browser")
	f.StringVar(&o.Listen, "listen", "", "with --alt: host:port to bind (default: the redirect URI's loopback host and port)")
	f.StringVar(&o.TLSCert, "tls-cert", "", "with --alt: PEM certificate to serve HTTPS directly")
	f.StringVar(&o.TLSKey, "tls-key", "", "with --alt: PEM key for --tls-cert")
	f.DurationVar(&o.Timeout, "timeout", 0, timeoutUsage)
	f.BoolVar(&o.NoCheck, "no-check", false, "do not ask Entra ID about the app registration before the sign-in (the check waits at most 2 seconds)")
	f.StringVar(&o.Store, "store", "", `where to keep the tokens: "keyring" (the default) or "file" (env MS365AUTH_STORE; remembered by the profile)`)
	f.BoolVar(&o.Force, "force", false, "replace a linked profile without asking")
	f.BoolVar(&o.Sandbox, "sandbox", false, `try the whole flow against a local stand-in for Entra ID (profile "sandbox"; no Microsoft account needed)`)
	cmd.RegisterFlagCompletionFunc("store", cobra.FixedCompletions(storeNames, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// chooseMethod sets Method from --alt and --device (fallback when neither
// is given) and rejects the flags that belong to the callback listener
// when it is not used.
func (o *linkOptions) chooseMethod(fallback string) error {
	switch {
	case o.Alt && o.Device:
		return errors.New("--alt and --device are two different methods: pick one")
	case o.Alt:
		o.Method = profile.MethodAlt
	case o.Device:
		o.Method = profile.MethodDevice
	default:
		o.Method = fallback
	}
	if o.Method != profile.MethodAlt && (o.Listen != "" || o.TLSCert != "" || o.TLSKey != "") {
		return errors.New("--listen, --tls-cert and --tls-key are for the callback listener of --alt")
	}
	return nil
}

// keepLink stores the result of a successful sign-in (account.Keep), then
// tells the person what was linked and granted.
func keepLink(ctx context.Context, env *Env, u ui, p *profile.Profile, res *flow.Result, o account.KeepOptions) error {
	rec, warnings, err := env.account().Keep(ctx, p, res, o)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		u.say("warning: %s", w)
	}
	who := account.AccountLabel(rec.Account, rec.Name)
	if who == "" {
		who = "an account (no ID token came back)"
	}
	u.say("%s Linked %s to profile %q.", u.style.Green("✓"), who, p.Name)
	switch {
	case rec.ScopesAsRequested:
		u.say("Granted as requested (the server did not list the scopes): %s", strings.Join(rec.Scopes, " "))
	case len(rec.Scopes) > 0:
		u.say("Granted: %s", strings.Join(rec.Scopes, " "))
	}
	// The token is for one resource; other resources' scopes were consented
	// to but are only seen in their own tokens (token --scopes).
	main := account.MainResourceScopes(p.Scopes)
	if missing := entra.MissingScopes(rec.Scopes, main); len(missing) > 0 {
		u.say("Not granted: %s", strings.Join(missing, " "))
	}
	if others := entra.OtherResourceScopes(p.Scopes, main); len(others) > 0 {
		u.say("Consented for other resources: %s (get their tokens with: ms365auth token%s --scopes ...)", strings.Join(others, " "), profileFlag(p.Name))
	}
	if rec.RefreshToken == "" {
		u.say("No refresh token came back: the token cannot be renewed without signing in again.")
	}
	return nil
}

// confirmRelink asks the person at the terminal before a sign-in replaces
// a linked profile (old: its settings, nil when there are none), as
// "gh auth login" does: a profile name typed from habit must not cost
// another account its link. It reports whether to go on.
func confirmRelink(ctx context.Context, env *Env, old *profile.Profile) (bool, error) {
	linked, who := env.account().LinkedAccount(old)
	if !linked {
		return true, nil
	}
	if who != "" {
		who = " to " + who
	}
	fmt.Fprintf(env.Err, "Profile %q is already linked%s. Sign in again and replace it? [y/N] ", old.Name, who)
	answer, err := termio.ReadLine(ctx, env.In, terminalEcho(env))
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	more := "Another account goes under a profile of its own (ms365auth link --profile NAME); more scopes come with: ms365auth reauth" + profileFlag(old.Name) + " --scopes LIST"
	if old.Sandbox {
		more = "To replace it without this question: ms365auth link --sandbox --force"
	}
	fmt.Fprintln(env.Err, "Nothing was changed. "+more)
	return false, nil
}
