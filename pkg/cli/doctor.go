package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/diagnose"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

type doctorOptions struct {
	link linkOptions // the settings, as link would take them
	JSON bool
	Mail bool
	mail diagnose.Mail // --mailbox and the hosts
}

func newDoctorCmd(env *Env) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the keyring, the network and the app registration, without signing in",
		Long: `Check, without signing in, what a sign-in and later token requests depend on:

  - the store: the D-Bus session bus, the Secret Service, whether the keyring
    is unlocked, a write/read/delete of a throwaway item, whether the file
    store encrypts, and that the profile's own record opens (so a missing or
    wrong file store passphrase shows here);
  - the authority host: reachable, the tenant known, the local clock against
    the server's Date header;
  - the profile's settings: client ID, tenant, redirect URI (with --alt, that
    its port can be bound);
  - the app registration, as far as the authorize endpoint reveals it before
    any browser opens: an unknown client ID (AADSTS700016), a redirect URI that
    is not registered (AADSTS50011), tenant problems (AADSTS90002, 50194).

It takes the same settings flags as link, so it can run before the first
link; without them it checks what the profile remembers. Each finding comes
with its fix. Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.

--mail checks a linked profile's mail logins instead: the settings and the
store the tokens come from, then, with the profile's token for Outlook, a
SASL XOAUTH2 login to IMAP (outlook.office365.com:993) and SMTP submission
(smtp.office365.com:587; smtp-mail.outlook.com for personal accounts), and
to POP (:995) when the profile holds the pop scope or --pop-host is given;
then it logs out. Nothing is sent and nothing in the mailbox changes. A
refusal comes with its likely cause and what to ask the Exchange admin.
--mailbox logs in to IMAP and POP as a shared mailbox (the account needs
Full Access) and checks over SMTP that the account may send as it. The
authority and app registration checks are left out (run doctor without
--mail for them). Exit status: 0 only when every login tried worked.`,
		Example: `  ms365auth doctor --client-id 00000000-0000-0000-0000-000000000000
  ms365auth doctor --profile work --json
  ms365auth doctor --mail --profile work --mailbox sales@contoso.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l := &o.link
			l.Profile = profileName(cmd)
			// Without --alt or --device, check the method the profile remembers.
			if err := l.chooseMethod(""); err != nil {
				return err
			}
			if err := o.mailFlags(cmd); err != nil {
				return err
			}
			return doctorRun(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	l := &o.link
	f.StringVar(&l.ClientID, "client-id", "", "application (client) ID to check (default: the profile's)")
	f.StringVar(&l.Tenant, "tenant", "", `tenant: "common", "organizations", "consumers", a tenant ID or domain (default: the profile's)`)
	f.StringVar(&l.AuthorityHost, "authority-host", "", "authority host (env MS365AUTH_AUTHORITY_HOST; default "+entra.DefaultAuthorityHost+")")
	f.StringSliceVar(&l.Scopes, "scopes", nil, "scopes or features to ask for (default: the profile's)")
	f.StringVar(&l.RedirectURI, "redirect-uri", "", "redirect URI to check (default: the profile's, or the method's default)")
	f.BoolVar(&l.Alt, "alt", false, "check the alternate method (callback listener)")
	f.BoolVar(&l.Device, "device", false, "check device code sign-in")
	f.StringVar(&l.Listen, "listen", "", "with --alt: host:port the listener would bind")
	f.StringVar(&l.TLSCert, "tls-cert", "", "with --alt: PEM certificate the listener would serve")
	f.StringVar(&l.TLSKey, "tls-key", "", "with --alt: PEM key for --tls-cert")
	f.StringVar(&l.Store, "store", "", `the store to check: "keyring" or "file", as link takes it (env MS365AUTH_STORE; default: the profile's)`)
	f.BoolVar(&o.JSON, "json", false, "print the findings as JSON on standard output")
	f.BoolVar(&o.Mail, "mail", false, "log in to the mail servers with the profile's token (IMAP, SMTP, POP) instead of checking the sign-in")
	f.StringVar(&o.mail.Mailbox, "mailbox", "", "with --mail: a shared mailbox to open with the account's token")
	f.StringVar(&o.mail.IMAPHost, "imap-host", "", "with --mail: IMAP server, host[:port] (default: the account's cloud's, port 993, TLS)")
	f.StringVar(&o.mail.SMTPHost, "smtp-host", "", "with --mail: SMTP submission server, host[:port] (default: the cloud's, port 587, STARTTLS)")
	f.StringVar(&o.mail.POPHost, "pop-host", "", "with --mail: POP server, host[:port] (port 995, TLS); also tries POP without the pop scope")
	cmd.RegisterFlagCompletionFunc("store", cobra.FixedCompletions(storeNames, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// mailFlags checks the --mail flags.
func (o *doctorOptions) mailFlags(cmd *cobra.Command) error {
	for _, name := range []string{"mailbox", "imap-host", "smtp-host", "pop-host"} {
		if cmd.Flags().Changed(name) && !o.Mail {
			return fmt.Errorf("--%s applies only to the mail logins: add --mail", name)
		}
	}
	return o.mail.Validate()
}

// doctorRun runs every check that can run (see package diagnose), prints
// the report, and fails (exit 1) when any check failed.
func doctorRun(ctx context.Context, env *Env, o *doctorOptions) error {
	denv, groups := diagnoseEnv(env, o.link), diagnose.Groups()
	if o.Mail {
		denv.Mail, groups = &o.mail, diagnose.MailGroups()
		denv.AccessToken = func(ctx context.Context, name string, scopes []string) (string, error) {
			return accessToken(ctx, env, &profile.Profile{Name: name}, account.TokenRequest{Scopes: scopes})
		}
	}
	rep := diagnose.Run(ctx, denv, groups)
	// The keyring's way out names the link that keeps this profile in files.
	var linked *profile.Profile // the settings a link would have, when they can be worked out
	if cfg, err := env.account().Settings().Load(); err == nil {
		linked, _ = settings(env, cfg, &o.link)
	}
	way := env.account().FileStoreWayOutFor(o.link.Profile, linked)
	for i := range rep.Checks {
		rep.Checks[i].Fix = account.FileStoreWayOut(rep.Checks[i].Fix, way)
	}
	if err := printDoctorReport(env, rep, o.JSON); err != nil {
		return err
	}
	if !rep.OK {
		return silentExit(ExitError)
	}
	return nil
}

// diagnoseEnv gives the checks what they need from this command: the
// settings as link merges them, the store, the network, and the commands
// a fix names.
func diagnoseEnv(env *Env, l linkOptions) *diagnose.Env {
	return &diagnose.Env{
		Profile:    l.Profile,
		ClientID:   l.ClientID,
		LoadConfig: env.account().Settings().Load,
		Merge: func(cfg *profile.Config, clientID string) (*profile.Profile, error) {
			o := l
			if clientID != "" {
				o.ClientID = clientID
			}
			return settings(env, cfg, &o)
		},
		OpenStore:          env.OpenStore,
		HTTPClient:         env.HTTPClient,
		Getenv:             env.Getenv,
		Now:                env.Now,
		Hints:              env.account().HintContext,
		ReauthCommand:      func(name string) string { return "ms365auth reauth" + profileFlag(name) },
		UnreadableFix:      account.UnreadableFix,
		DefaultRedirectURI: profile.DefaultRedirectURI,
	}
}

// printDoctorReport writes the report: JSON, or one line per check with
// its fix below.
func printDoctorReport(env *Env, rep diagnose.Report, asJSON bool) error {
	w := env.Out
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	var style termio.Styler
	if f, ok := w.(*os.File); ok {
		style = termio.NewStyler(f, env.Getenv)
	}
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Title))
	}
	var b strings.Builder
	for _, c := range rep.Checks {
		label := fmt.Sprintf("%-4s", c.Status)
		switch c.Status {
		case diagnose.OK:
			label = style.Green(label)
		case diagnose.Warn:
			label = style.Yellow(label)
		case diagnose.Fail:
			label = style.Red("FAIL")
		case diagnose.Skip:
			label = style.Dim(label)
		}
		fmt.Fprintf(&b, "%s  %-*s  %s\n", label, width, c.Title, c.Summary)
		if c.Reason != "" {
			fmt.Fprintf(&b, "      %s\n", style.Dim("cause: ")+c.Reason)
		}
		if c.Fix != "" {
			fmt.Fprintf(&b, "      %s\n", style.Dim("fix: ")+c.Fix)
		}
	}
	if rep.OK {
		b.WriteString("No problems found.\n")
	} else {
		b.WriteString("Some checks failed: see the fixes above.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
