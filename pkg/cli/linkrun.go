package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/diagnose"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// settings merges link's flags with the environment and the stored
// profile (account.LinkSettings).
func settings(env *Env, cfg *profile.Config, o *linkOptions) (*profile.Profile, error) {
	return env.account().LinkSettings(cfg, o.Profile, o.Store, profile.Change{
		ClientID: o.ClientID, Tenant: o.Tenant, AuthorityHost: o.AuthorityHost, Scopes: o.Scopes,
		Method: o.Method, RedirectURI: o.RedirectURI, Listen: o.Listen, TLSCert: o.TLSCert, TLSKey: o.TLSKey,
	})
}

// clientSecret finds the secret of a confidential app
// (account.ClientSecret), asking the person at the terminal for
// --confidential.
func clientSecret(ctx context.Context, env *Env, st store.Store, o *linkOptions, p *profile.Profile) (secret string, isNew bool, err error) {
	return env.account().ClientSecret(st, p, account.SecretSource{Public: o.Public, File: o.SecretFile, Confidential: o.Confidential, PrintLink: o.PrintLink,
		Ask: func() (string, error) { return askSecret(ctx, env) }})
}

// askSecret reads --confidential's secret from the terminal, unechoed.
func askSecret(ctx context.Context, env *Env) (string, error) {
	if !isTerminal(env.In) {
		return "", errors.New("--confidential asks for the secret on a terminal: in scripts set MS365AUTH_CLIENT_SECRET or use --client-secret-file")
	}
	fmt.Fprint(env.Err, "Client secret (its Value, not its Secret ID; not shown): ")
	s, err := termio.ReadSecret(ctx, env.In, env.Err)
	if err != nil {
		return "", err
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", errors.New("no client secret was entered")
	}
	return s, nil
}

func linkRun(ctx context.Context, env *Env, o *linkOptions) error {
	if o.Sandbox {
		return sandboxRun(ctx, env, o)
	}
	cfg, err := env.account().Settings().Load()
	if err != nil {
		return err
	}
	if o.ReturnedURL != "" {
		return finishPending(ctx, env, o)
	}
	p, err := settings(env, cfg, o)
	if err != nil {
		return err
	}
	if problem := entra.ClientIDProblem(p.AuthorityHost, p.ClientID); problem != "" {
		return fmt.Errorf("%s\nfix: copy the Application (client) ID from the app registration's Overview page: %s", problem, env.commandLineWith("--client-id", "<application ID>"))
	}
	// A URI no app registration can hold (Microsoft's redirect URI rules:
	// absolute, https or loopback http, no fragment, at most 256
	// characters) can only end at the AADSTS50011 page: say so before
	// anyone signs in.
	if p.Method != profile.MethodDevice && p.RedirectURI != "" {
		if problem := entra.RedirectURIProblem(p.RedirectURI); problem != "" {
			return fmt.Errorf("redirect URI: %s\nfix: register a URI Entra accepts and pass it with --redirect-uri (default %s)", problem, profile.DefaultRedirectURI(p.Method))
		}
	}
	st, err := env.account().OpenLinkStore(p)
	if err != nil {
		return err
	}
	// And whether the app registration can work, before anyone is asked
	// anything or opens a browser.
	if !o.NoCheck {
		if err := diagnose.BeforeSignIn(ctx, &diagnose.Env{HTTPClient: env.HTTPClient, Hints: env.account().HintContext}, p); err != nil {
			return err
		}
	}
	if !o.Force && !o.PrintLink && isTerminal(env.In) {
		if replace, err := confirmRelink(ctx, env, cfg.Get(p.Name)); err != nil || !replace {
			return err
		}
	}
	secretStore, moving, err := env.account().SecretStore(cfg, p, st)
	if err != nil {
		return err
	}
	secret, secretIsNew, err := clientSecret(ctx, env, secretStore, o, p)
	if err != nil {
		return err
	}
	secretIsNew = secretIsNew || (moving && secret != "")
	client := newClient(env, p, secret)
	if o.PrintLink {
		auth, err := client.NewAuthorization(p.RedirectURI, flow.Options{})
		if err != nil {
			return err
		}
		return startPending(env, p, auth)
	}
	u := newUI(env, false)
	res, err := signIn(ctx, env, u, p, client, signInOptions{NoBrowser: o.NoBrowser, Timeout: o.Timeout})
	if err != nil {
		return err
	}
	return keepLink(ctx, env, u, p, res, account.KeepOptions{Store: st, Secret: secret, SecretIsNew: secretIsNew, Public: o.Public})
}
