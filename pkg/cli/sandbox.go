package cli

import (
	"context"
	"fmt"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/graphsim"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// sandboxRun runs the primary method end to end against a local stand-in
// for Entra ID, so a newcomer sees link, paste, keyring and status without
// a Microsoft account. Everything it prints is labelled.
func sandboxRun(ctx context.Context, env *Env, o *linkOptions) error {
	u := newUI(env, true)
	srv, err := entrasim.NewSandbox()
	if err != nil {
		return fmt.Errorf("could not start the sandbox: %w", err)
	}
	defer srv.Close()
	redirect := srv.SandboxRedirectURI()
	scopes := o.Scopes
	if len(scopes) == 0 {
		scopes = account.SandboxScopes()
	}
	// The settings as link reads them: a sandbox profile kept in the file
	// store stays there, as any profile does.
	cfg, err := env.account().Settings().Load()
	if err != nil {
		return err
	}
	p, err := settings(env, cfg, &linkOptions{
		Profile: profile.SandboxName, ClientID: entrasim.SandboxClientID, AuthorityHost: srv.URL,
		Scopes: scopes, RedirectURI: redirect, Store: o.Store,
	})
	if err != nil {
		return err
	}
	p.Sandbox = true
	st, err := env.account().OpenLinkStore(p)
	if err != nil {
		return err
	}
	if !o.Force && isTerminal(env.In) {
		if replace, err := confirmRelink(ctx, env, cfg.Get(p.Name)); err != nil || !replace {
			return err
		}
	}
	u.say("This is the sandbox: a stand-in for Entra ID running on this machine at %s.", srv.URL)
	u.say("Nothing reaches Microsoft; the tokens are fake and go to the profile %q.", profile.SandboxName)
	auth, err := newClient(env, p, "").NewAuthorization(redirect, flow.Options{})
	if err != nil {
		return err
	}
	// The stand-in listens on loopback: only a browser on this machine
	// reaches it. At a terminal, Enter lets the sandbox play the browser.
	atTerminal := isTerminal(env.In)
	ifNoBrowser := "open the link above in a browser on this machine, or " + withoutPasting(env, p)
	if atTerminal {
		ifNoBrowser = "press Enter on an empty line and the sandbox plays the browser"
	}
	opened := showLink(env, u, auth.URL, true, o.NoBrowser, ifNoBrowser)
	if atTerminal && (opened || o.NoBrowser) {
		u.say("No browser at hand? Press Enter on an empty line and the sandbox plays the browser.")
	}
	playBrowser := func() (string, error) {
		raw, err := srv.Authorize(ctx, auth.URL)
		if err != nil {
			return "", fmt.Errorf("the sandbox could not sign in: %w", err)
		}
		// The whole URL (over 1,000 characters) would push everything
		// else off an 80-column screen; its shape is what teaches.
		u.say("The browser would now show a blank page at %s", abbreviateURL(raw))
		return raw, nil
	}
	code, err := pasteDialogue(env, u, p, playBrowser).Code(ctx, auth)
	if err != nil {
		return env.account().WithHint(err, p)
	}
	res, err := auth.Redeem(ctx, code)
	if err != nil {
		return env.account().WithHint(err, p)
	}
	if err := keepLink(ctx, env, u, p, res, account.KeepOptions{Store: st}); err != nil {
		return err
	}
	u.say("Now try: ms365auth status --profile sandbox")
	return nil
}

// sandboxGraph starts the sandbox's stand-in for Microsoft Graph, for api
// on the sandbox profile, and returns its root URL and how to stop it. It
// lives as long as the command, and answers the sandbox's tokens with a
// made-up mailbox and calendar, so that api, --paginate and --jq can be
// tried without an account, and a sandbox token never goes to Microsoft.
func sandboxGraph(env *Env) (url string, stop func()) {
	srv := graphsim.NewSandbox(entrasim.SandboxClientID, env.Now())
	return srv.URL, srv.Close
}

// abbreviateURL shortens a long URL to its start and its length, keeping
// the query's first parameter name in view.
func abbreviateURL(raw string) string {
	const keep = 60
	if len(raw) <= keep {
		return raw
	}
	return fmt.Sprintf("%s… (%d characters)", raw[:keep], len(raw))
}
