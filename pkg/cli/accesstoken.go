package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// accessToken is the access token of profile p (account.AccessToken),
// with its warnings on stderr.
func accessToken(ctx context.Context, env *Env, p *profile.Profile, req account.TokenRequest) (string, error) {
	t, err := env.account().AccessToken(ctx, p.Name, req)
	if err != nil {
		return "", err
	}
	for _, w := range t.Warnings {
		fmt.Fprintln(env.Err, "warning: "+w)
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
