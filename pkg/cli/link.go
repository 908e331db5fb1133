package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
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

// ui prints messages for the person on stderr, labelled in the sandbox.
type ui struct {
	w       io.Writer
	prefix  string
	style   termio.Styler
	sandbox bool
}

func (u ui) say(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintln(u.w, u.prefix+line)
	}
}

func newUI(env *Env, sandbox bool) ui {
	u := ui{w: env.Err}
	if f, ok := env.Err.(*os.File); ok {
		u.style = termio.NewStyler(f)
	}
	if sandbox {
		u.prefix, u.sandbox = "[sandbox] ", true
	}
	return u
}

// withoutPasting says how to sign in when pasting a URL cannot work: with
// a device code, or in the sandbox, by letting it play the browser.
func (u ui) withoutPasting(profileName string) string {
	if u.sandbox {
		return "run ms365auth link --sandbox on a terminal and press Enter on an empty line: the sandbox plays the browser"
	}
	return "sign in with a code instead: ms365auth link" + profileFlag(profileName) + " --device"
}

// settings merges flags, environment and the stored profile. Flags win,
// then the environment, then what the profile remembers, then defaults
// (for the store: see chooseStore).
func settings(env *Env, cfg *profile.Config, o *linkOptions) (*profile.Profile, error) {
	p := &profile.Profile{Name: o.Profile, Method: profile.MethodPaste}
	if old := cfg.Get(o.Profile); old != nil {
		remembered := *old // changed only once the link succeeds
		p = &remembered
	}
	if o.ClientID != "" {
		p.ClientID = o.ClientID
	}
	if p.ClientID == "" {
		return nil, fmt.Errorf("--client-id is required the first time profile %q is linked: use the Application (client) ID from the app registration's Overview page", o.Profile)
	}
	if o.Tenant != "" {
		p.Tenant = o.Tenant
	}
	host := o.AuthorityHost
	if host == "" {
		host = env.Getenv("MS365AUTH_AUTHORITY_HOST")
	}
	if host != "" {
		p.AuthorityHost = host
	}
	auth, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant)
	if err != nil {
		return nil, err
	}
	p.AuthorityHost, p.Tenant = auth.Host, auth.Tenant
	if len(o.Scopes) > 0 || len(p.Scopes) == 0 {
		requested := o.Scopes
		if len(requested) == 0 {
			requested = []string{"User.Read"}
		}
		if p.Scopes, err = entra.ResolveScopes(requested); err != nil {
			return nil, err
		}
	}
	if o.Method != "" && o.Method != p.Method {
		p.Method, p.RedirectURI = o.Method, ""
	}
	if o.RedirectURI != "" {
		p.RedirectURI = o.RedirectURI
	}
	if o.Listen != "" {
		p.Listen = o.Listen
	}
	if o.TLSCert != "" || o.TLSKey != "" {
		p.TLSCert, p.TLSKey = o.TLSCert, o.TLSKey
	}
	if p.Method != profile.MethodAlt {
		p.Listen, p.TLSCert, p.TLSKey = "", "", ""
	}
	if p.Store, err = chooseStore(env, o.Store, p.Store); err != nil {
		return nil, err
	}
	if p.RedirectURI == "" {
		switch p.Method {
		case profile.MethodPaste:
			p.RedirectURI = entra.NativeClientRedirectURI
		case profile.MethodAlt:
			p.RedirectURI = DefaultAltRedirectURI
		}
	}
	return p, nil
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
	cfg, err := loadConfig()
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
	// A URI no registration can hold (entra-facts §5) can only end at
	// Microsoft's AADSTS50011 page: say so before anyone signs in.
	if p.Method != profile.MethodDevice && p.RedirectURI != "" {
		if problem := entra.RedirectURIProblem(p.RedirectURI); problem != "" {
			return fmt.Errorf("redirect URI: %s\nfix: register a URI Entra accepts and pass it with --redirect-uri (default %s)", problem, defaultRedirect(p.Method))
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
		if err := checkRegistrationFirst(ctx, env, p); err != nil {
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
	secret, freshSecret, err := clientSecret(ctx, env, secretStore, o, p)
	if err != nil {
		return err
	}
	freshSecret = freshSecret || (moving && secret != "")
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
	return keepLink(ctx, env, u, p, res, account.KeepOptions{Store: st, Secret: secret, SecretIsNew: freshSecret, Public: o.Public})
}

// defaultAltTimeout bounds the wait for the browser's callback.
const defaultAltTimeout = 5 * time.Minute

const timeoutUsage = "how long to wait for the browser (default 5m) or the device code sign-in (default: until the code expires)"

// signInOptions are what a person may choose about a sign-in.
type signInOptions struct {
	NoBrowser bool
	Timeout   time.Duration // 0: the method's default
	LoginHint string        // the account to pre-fill, e.g. on reauth
	Claims    string        // a claims request answering a claims challenge
}

// signIn runs the profile's sign-in method.
func signIn(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, o signInOptions) (*flow.Result, error) {
	switch p.Method {
	case profile.MethodAlt:
		if o.Timeout == 0 {
			o.Timeout = defaultAltTimeout
		}
		res, err := signInAlt(ctx, env, u, p, client, o)
		return res, withHint(err, p)
	case profile.MethodDevice:
		return signInDevice(ctx, env, u, p, client, o.Timeout, o.Claims)
	default:
		return signInPaste(ctx, env, u, p, client, o)
	}
}

// signInPaste runs the seed's primary method: print and open the link, then
// read back the URL the browser landed on.
func signInPaste(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, o signInOptions) (*flow.Result, error) {
	auth, err := client.NewAuthorization(p.RedirectURI, flow.Options{LoginHint: o.LoginHint, Claims: o.Claims})
	if err != nil {
		return nil, err
	}
	showLink(env, u, auth.URL, false, o.NoBrowser, "open the link above on any device, or "+u.withoutPasting(p.Name))
	code, err := pasteDialogue{env: env, u: u, profile: p.Name}.code(ctx, auth)
	if errors.Is(err, errNothingPasted) {
		return nil, fmt.Errorf("%w; or %s", err, u.withoutPasting(p.Name))
	}
	if err != nil {
		return nil, withHint(err, p)
	}
	res, err := auth.Redeem(ctx, code)
	return res, withHint(err, p)
}

func newClient(env *Env, p *profile.Profile, secret string) flow.Client {
	return env.account().Client(p, secret)
}

// hintContext fills the AADSTS fixes in for p (account.HintContext).
func hintContext(p *profile.Profile) entra.HintContext {
	return settingsOnly().HintContext(p)
}

// methodFlag is the link flag that chooses method.
func methodFlag(method string) string {
	switch method {
	case profile.MethodAlt:
		return " --alt"
	case profile.MethodDevice:
		return " --device"
	}
	return ""
}

// showLink prints the sign-in link and opens it in a browser. thisMachine
// says the link works only in a browser on this machine (a loopback
// redirect: the listener, the sandbox's stand-in). When no browser opens,
// ifNoBrowser says what to do instead. It reports whether one opened.
func showLink(env *Env, u ui, link string, thisMachine, noBrowser bool, ifNoBrowser string) bool {
	where := ""
	if thisMachine {
		where = " on this machine"
	}
	u.say("Open this link in a browser%s, sign in and accept:", where)
	fmt.Fprintln(env.Err, link) // alone on its line, unprefixed, for copying
	if noBrowser {
		return false
	}
	if err := env.Browser.Open(link); err != nil {
		u.say("Could not open a browser%s: %s.", browserFailure(err), ifNoBrowser)
		return false
	}
	u.say("Opened it in your browser.")
	return true
}

// browserFailure says why no browser opened, when the reason means
// something to a person: an opener's exit status ("exit status 3") does not.
func browserFailure(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ""
	}
	return " (" + err.Error() + ")"
}

// readReturnedURL reads the URL from a terminal (without the kernel's line
// length limit: Entra codes run to ~1,500 characters) or one line of
// standard input.
func readReturnedURL(ctx context.Context, env *Env, u ui, name string, prompt bool) (string, error) {
	if prompt && isTerminal(env.In) {
		u.say("When the browser shows a blank page, copy the whole URL from its address bar,")
		u.say("paste it here and press Enter:")
	}
	line, err := termio.ReadLine(ctx, env.In, terminalEcho(env))
	if errors.Is(err, io.EOF) {
		return "", fmt.Errorf("no returned URL was given on standard input: run link on a terminal, pipe the URL in, split the sign-in with --print-link and --returned-url, or %s", u.withoutPasting(name))
	}
	if err != nil {
		return "", err
	}
	return line, nil
}

// terminalEcho is where typed characters are echoed: stderr when it is the
// terminal, else nowhere, so that a pasted code never lands in a log file
// that stderr was redirected to.
func terminalEcho(env *Env) io.Writer {
	if f, ok := env.Err.(*os.File); ok && isTerminal(f) {
		return f
	}
	return io.Discard
}

// probe checks the store answers (account.Probe).
func probe(st store.Store) error { return account.Probe(st) }

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
	if old == nil {
		return true, nil
	}
	st, err := openProfileStore(env, old)
	if err != nil {
		return true, nil // the sign-in reports the store's trouble
	}
	rec, err := st.Load(old.Name)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	who := ""
	if err == nil && rec.Account != "" {
		who = " to " + rec.Account
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
	fmt.Fprintln(env.Err, "Nothing was changed. Another account goes under a profile of its own (ms365auth link --profile NAME); more scopes come with: ms365auth reauth"+profileFlag(old.Name)+" --scopes LIST")
	return false, nil
}

func storeOf(p *profile.Profile) string { return account.StoreOf(p) }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// loadProfile and loadConfig read the settings for code without an Env at
// hand (api, completion, doctor); commands with one use env.account().
func loadProfile(name string) (*profile.Profile, error) { return settingsOnly().Profile(name) }

func loadConfig() (*profile.Config, error) { return settingsOnly().Settings().Load() }
