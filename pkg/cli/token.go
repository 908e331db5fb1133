package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
)

type tokenOptions struct {
	Profile string
	Scopes  []string
	Margin  time.Duration
	Claims  string
}

func newTokenCmd(env *Env) *cobra.Command {
	o := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a fresh access token",
		Long: `Print a fresh access token, and nothing else, on standard output.

The stored token is printed while it stays valid for longer than --margin
(at most half the token's lifetime, so that short-lived tokens are not
renewed on every call); otherwise it is renewed with the refresh token
first (one process at a time per profile; the others wait and reuse the
result). --scopes asks for a token of another resource, e.g. Exchange for
IMAP and SMTP, kept separately.
--claims answers a claims challenge another program received: it signs in
again with the claims (on a terminal; otherwise exit 3), then prints the
new token.
When the refresh token has fewer than 7 days left before it dies unused and
was not renewed, one line on standard error says so.

Exit status: 0 with a token, 3 when a person must sign in (run
"ms365auth reauth"), 1 on other errors, including temporary ones.`,
		Example: `  # msmtp, mutt, isync: passwordeval / PassCmd
  ms365auth token --scopes https://outlook.office.com/SMTP.Send
  curl -H "Authorization: Bearer $(ms365auth token)" https://graph.microsoft.com/v1.0/me`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			if o.Margin < 0 {
				return errors.New("--margin cannot be negative")
			}
			if err := decodeClaimsFlag(&o.Claims); err != nil {
				return err
			}
			return tokenRun(cmd, env, o)
		},
	}
	cmd.Flags().StringSliceVar(&o.Scopes, "scopes", nil, "scopes of another resource, e.g. https://outlook.office.com/IMAP.AccessAsUser.All or the features imap, smtp")
	claimsFlag(cmd.Flags(), &o.Claims)
	cmd.Flags().DurationVar(&o.Margin, "margin", 5*time.Minute, "renew when the token expires within this time (at most half its lifetime)")
	return cmd
}

func tokenRun(cmd *cobra.Command, env *Env, o *tokenOptions) error {
	if o.Claims != "" {
		if err := answerClaims(cmd.Context(), env, o.Profile, o.Claims); err != nil {
			return err
		}
	}
	p, err := env.account().Profile(o.Profile)
	if err != nil {
		return err
	}
	// After a sign-in the profile's own token is new; another resource's
	// must be renewed to carry the claims.
	token, err := accessToken(cmd.Context(), env, p, account.TokenRequest{Scopes: o.Scopes, Margin: o.Margin, Force: o.Claims != "" && len(o.Scopes) > 0})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Out, token)
	return err
}
