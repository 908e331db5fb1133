package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// tokenRequest says which access token a command needs.
type tokenRequest struct {
	Scopes []string      // as given to --scopes; nil: the profile's own resource
	Margin time.Duration // renew when the token expires within this
	Force  bool          // renew even a valid token: the resource refused it
}

// accessToken is the one path by which commands (token, api) get an access
// token of profile p: the stored one while it is fresh enough, else a
// refresh under the profile's lock (refresher.ensure). When renewing early
// fails for now but the stored token still works, that token is returned
// with a warning on stderr: a mail client or script is better served by it
// than by an error.
func accessToken(ctx context.Context, env *Env, p *profile.Profile, req tokenRequest) (string, error) {
	st, err := openProfileStore(env, p)
	if err != nil {
		return "", err
	}
	rec, err := st.Load(p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return "", &SignInRequiredError{Profile: p.Name, Reason: "no tokens are stored"}
	}
	if err != nil {
		return "", err
	}
	var scopes []string
	if len(req.Scopes) > 0 {
		resolved, err := entra.ResolveScopes(req.Scopes)
		if err != nil {
			return "", err
		}
		scopes = entra.ResourceScopes(resolved)
	}
	key := resourceKey(scopes)
	renewed, err := newRefresher(env, p, st).ensure(ctx, rec, scopes, req.Margin, req.Force)
	var te *TransientError
	if err != nil && (!errors.As(err, &te) || req.Force) {
		return "", err
	}
	if err == nil {
		rec = renewed
	}
	warnRefreshTokenEnding(env, p.Name, rec)
	t := tokenFor(rec, key)
	if err != nil {
		if !fresh(rec, key, env.Now(), 0) {
			return "", err
		}
		fmt.Fprintf(env.Err, "warning: %v\nwarning: using the current token, which is valid until %s\n", err, t.Expiry.Local().Format(time.RFC1123))
	}
	return t.AccessToken, nil
}

// answerClaims signs the profile in again with a claims challenge's
// claims (reauth --claims): on a terminal it runs the profile's sign-in;
// otherwise it fails with the one-line exit-3 error naming the command.
func answerClaims(ctx context.Context, env *Env, profileName, claims string) error {
	return reauthRun(ctx, env, &reauthOptions{Profile: profileName, Claims: claims})
}

func claimsFlag(f *pflag.FlagSet, claims *string) {
	f.StringVar(claims, "claims", "", `answer a claims challenge: sign in again with these claims (the claims="..." value of a 401's WWW-Authenticate, base64 or JSON, or that whole header value)`)
}

// decodeClaimsFlag turns --claims as given into the JSON sent to Entra.
func decodeClaimsFlag(claims *string) error {
	if *claims == "" {
		return nil
	}
	decoded, err := entra.DecodeClaims(*claims)
	if err != nil {
		// The whole WWW-Authenticate value, as a script's curl -D got it.
		var ok bool
		if decoded, ok = entra.ParseClaimsChallenge([]string{*claims}); !ok {
			return fmt.Errorf("--claims: %w", err)
		}
	}
	*claims = decoded
	return nil
}
