package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// clientSecret finds the secret of a confidential app: the environment, a
// file, a prompt, or the store. It never comes from a flag value, so it
// cannot leak through the process list.
func clientSecret(ctx context.Context, env *Env, st store.Store, o *linkOptions, p *profile.Profile) (secret string, isNew bool, err error) {
	if o.Public {
		return "", false, nil
	}
	if s := env.Getenv("MS365AUTH_CLIENT_SECRET"); s != "" {
		return s, true, nil
	}
	if o.SecretFile != "" {
		data, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return "", false, fmt.Errorf("cannot read the client secret: %w", err)
		}
		s := strings.TrimSpace(string(data))
		if s == "" {
			return "", false, fmt.Errorf("the client secret file %s is empty", o.SecretFile)
		}
		return s, true, nil
	}
	if o.Confidential {
		if !isTerminal(env.In) {
			return "", false, errors.New("--confidential asks for the secret on a terminal: in scripts set MS365AUTH_CLIENT_SECRET or use --client-secret-file")
		}
		fmt.Fprint(env.Err, "Client secret (its Value, not its Secret ID; not shown): ")
		s, err := termio.ReadSecret(ctx, env.In, env.Err)
		if err != nil {
			return "", false, err
		}
		if s = strings.TrimSpace(s); s == "" {
			return "", false, errors.New("no client secret was entered")
		}
		return s, true, nil
	}
	if p.Confidential {
		s, err := st.LoadSecret(p.Name)
		if err != nil {
			return "", false, fmt.Errorf("profile %q is confidential but its client secret could not be read: %w\nfix: set MS365AUTH_CLIENT_SECRET or pass --client-secret-file", p.Name, err)
		}
		return s, false, nil
	}
	return "", false, nil
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
	st, err := env.OpenStore(p.Store)
	if err != nil {
		return err
	}
	// Find out now, not after the person has signed in, whether the
	// tokens can be kept.
	if err := probe(st); err != nil {
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
	// A kept client secret is read from where the profile was; moving to
	// another store, it is then saved in the new one.
	secretStore, moving := st, false
	if prev := storeOf(cfg.Get(p.Name)); prev != "" && prev != st.Name() {
		if secretStore, err = env.OpenStore(prev); err != nil {
			return err
		}
		moving = true
	}
	// The pending sign-in keeps no secret, and the finishing run reads its
	// own: a secret given here would be dropped, and redeeming the code
	// would then fail with AADSTS7000218.
	if o.PrintLink && !o.Public && (env.Getenv("MS365AUTH_CLIENT_SECRET") != "" || o.SecretFile != "" || o.Confidential) {
		return fmt.Errorf("--print-link does not keep a client secret: start without one, and give it to the run that finishes the sign-in: ms365auth link%s --returned-url - with MS365AUTH_CLIENT_SECRET set or --client-secret-file FILE", profileFlag(p.Name))
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
