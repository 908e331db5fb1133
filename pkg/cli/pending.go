package cli

// A pending sign-in lets "link --print-link" and "link --returned-url" run
// as two processes (account.Pending).

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// savePending keeps what "link --returned-url" needs to finish auth.
func savePending(env *Env, p *profile.Profile, auth *flow.Authorization) error {
	return env.account().SavePending(p, auth)
}

func startPending(env *Env, p *profile.Profile, auth *flow.Authorization) error {
	if err := savePending(env, p, auth); err != nil {
		return err
	}
	fmt.Fprintln(env.Out, auth.URL)
	fmt.Fprintf(env.Err, "Open the link, sign in, then within 10 minutes run:\n  ms365auth link%s --returned-url -\nand paste the URL of the page you land on (or give it instead of -)\n", profileFlag(p.Name))
	return nil
}

func finishPending(ctx context.Context, env *Env, o *linkOptions) error {
	ps, err := env.account().LoadPending(o.Profile)
	if err != nil {
		return err
	}
	for _, w := range ps.Warnings {
		fmt.Fprintln(env.Err, "warning: "+w)
	}
	p := &ps.Profile
	st, err := env.OpenStore(p.Store)
	if err != nil {
		return err
	}
	secret, secretIsNew, err := clientSecret(ctx, env, st, o, p)
	if err != nil {
		return err
	}
	auth := newClient(env, p, secret).Resume(p.RedirectURI, ps.State, ps.Verifier)
	raw := o.ReturnedURL
	if raw == "-" { // from standard input, out of the process list
		if raw, err = termio.ReadLine(ctx, env.In, io.Discard); err != nil {
			return fmt.Errorf("no returned URL on standard input: %w", err)
		}
	}
	res, err := auth.RedeemReturnedURL(ctx, raw)
	var rue *entra.ReturnedURLError
	if errors.As(err, &rue) {
		rue.StartOver = env.account().LinkCommand(p, p.Method) + " --print-link"
	}
	if err != nil {
		return env.account().WithHint(err, p) // keep the pending sign-in: a corrected URL may follow
	}
	env.account().DropPending(o.Profile) // the code is spent
	return keepLink(ctx, env, newUI(env, false), p, res, account.KeepOptions{Store: st, Secret: secret, SecretIsNew: secretIsNew, Public: o.Public})
}
