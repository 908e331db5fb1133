package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

type tokenOptions struct {
	Profile string
	Scopes  []string
	Margin  time.Duration
}

func newTokenCmd(env *Env) *cobra.Command {
	o := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a fresh access token",
		Long: `Print a fresh access token, and nothing else, on standard output.

The stored token is printed while it stays valid for longer than --margin;
otherwise it is renewed with the refresh token first (one process at a time
per profile; the others wait and reuse the result). --scopes asks for a token
of another resource, e.g. Exchange for IMAP and SMTP, kept separately.
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
			return tokenRun(cmd, env, o)
		},
	}
	cmd.Flags().StringSliceVar(&o.Scopes, "scopes", nil, "scopes of another resource, e.g. https://outlook.office.com/IMAP.AccessAsUser.All or the features imap, smtp")
	cmd.Flags().DurationVar(&o.Margin, "margin", 5*time.Minute, "renew when the token expires within this time")
	return cmd
}

func tokenRun(cmd *cobra.Command, env *Env, o *tokenOptions) error {
	p, st, rec, err := linkedProfile(env, o.Profile)
	if err != nil {
		return err
	}
	var scopes []string
	if len(o.Scopes) > 0 {
		resolved, err := entra.ResolveScopes(o.Scopes)
		if err != nil {
			return err
		}
		scopes = resourceScopes(resolved)
	}
	key := resourceKey(scopes)
	renewed, err := newRefresher(env, p, st).ensure(cmd.Context(), rec, scopes, o.Margin, false)
	var te *TransientError
	if err != nil && !errors.As(err, &te) {
		return err
	}
	if err == nil {
		rec = renewed
	}
	warnRefreshTokenEnding(env, p.Name, rec)
	if err != nil {
		if !fresh(rec, key, env.Now(), 0) {
			return err
		}
		// Renewing early failed for now, but the token still works: a mail
		// client is better served by it than by an error.
		fmt.Fprintf(env.Err, "warning: %v\nwarning: printing the current token, which is valid until %s\n", err, expiryOf(rec, key).Local().Format(time.RFC1123))
	}
	token := rec.AccessToken
	if key != "" {
		token = rec.Resources[key].AccessToken
	}
	_, err = fmt.Fprintln(env.Out, token)
	return err
}

// linkedProfile loads a profile's settings and its record (one store read).
// A profile that was never linked needs a person.
func linkedProfile(env *Env, name string) (*profile.Profile, store.Store, *store.Record, error) {
	p, err := loadProfile(name)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := openProfileStore(env, p)
	if err != nil {
		return nil, nil, nil, err
	}
	rec, err := st.Load(name)
	if errors.Is(err, store.ErrNotFound) {
		return p, st, nil, &SignInRequiredError{Profile: name, Reason: "no tokens are stored"}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return p, st, rec, nil
}

// resourceScopes drops the OIDC scopes, which every request carries anyway.
func resourceScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		switch s {
		case "offline_access", "openid", "profile", "email":
			continue
		}
		out = append(out, s)
	}
	return out
}

// expiryOf is when the token for key expires; "" is the main one.
func expiryOf(rec *store.Record, key string) time.Time {
	if key == "" {
		return rec.Expiry
	}
	return rec.Resources[key].Expiry
}
