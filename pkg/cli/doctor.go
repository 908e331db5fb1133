package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/callback"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/servertext"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// Outcomes of one doctor check, from best to worst. A skipped check did not
// run because one it depends on failed; it does not fail the run by itself.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
	checkSkip = "skip"
)

// Limits of the network checks.
const (
	doctorHTTPTimeout = 10 * time.Second
	maxClockSkew      = 5 * time.Minute
	maxPageBytes      = 2 << 20 // Entra's sign-in page is a few hundred KB
)

// placeholderClientID stands in for a missing client ID so that the other
// settings can still be checked; it is never sent anywhere.
const placeholderClientID = "00000000-0000-0000-0000-000000000000"

// check is one line of the doctor's report. No field ever holds a token, a
// client secret or a value that might be one.
type check struct {
	ID      string `json:"id"`     // stable, e.g. "keyring.bus"
	Title   string `json:"title"`  // what was checked, for people
	Status  string `json:"status"` // ok, warn, fail or skip
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
	AADSTS  int    `json:"aadsts,omitempty"`
}

type doctorReport struct {
	Profile string  `json:"profile"`
	OK      bool    `json:"ok"` // no check failed (warnings allowed)
	Checks  []check `json:"checks"`
}

type doctorOptions struct {
	link linkOptions // the settings, as link would take them
	JSON bool

	noClientID bool // neither the flags nor the profile give a client ID
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
with its fix. Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.`,
		Example: `  ms365auth doctor --client-id 00000000-0000-0000-0000-000000000000
  ms365auth doctor --profile work --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l := &o.link
			l.Profile = profileName(cmd)
			// Without --alt or --device, check the method the profile remembers.
			if err := l.chooseMethod(""); err != nil {
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
	f.BoolVar(&o.JSON, "json", false, "print the findings as JSON on standard output")
	return cmd
}

// doctor collects the findings of one run.
type doctor struct {
	env    *Env
	checks []check
}

// add records a finding. Summaries quote what servers answered, so they
// are cleaned of anything that could act on a terminal.
func (d *doctor) add(c check) {
	c.Summary = servertext.Clean(c.Summary)
	d.checks = append(d.checks, c)
}

func (d *doctor) failed() bool {
	for _, c := range d.checks {
		if c.Status == checkFail {
			return true
		}
	}
	return false
}

// doctorRun runs every check that can run, prints the report, and fails
// (exit 1) when any check failed. Checks that depend on a failed one are
// reported as skipped; independent ones still run, so one run shows every
// problem that can be seen.
func doctorRun(ctx context.Context, env *Env, o *doctorOptions) error {
	d := &doctor{env: env}
	p, storeName := d.checkSettings(o)
	d.checkStore(storeName, o.link.Profile)
	switch {
	case p == nil:
		d.add(check{ID: "authority", Title: "authority host", Status: checkSkip, Summary: "needs valid settings"})
		d.add(check{ID: "app", Title: "app registration", Status: checkSkip, Summary: "needs valid settings"})
	case p.Sandbox:
		// The sandbox's stand-in for Entra ID lives only while link runs.
		d.add(check{ID: "authority", Title: "authority host", Status: checkSkip, Summary: "the sandbox's stand-in runs only during `ms365auth link --sandbox`"})
		d.add(check{ID: "app", Title: "app registration", Status: checkSkip, Summary: "the sandbox registers its own app"})
	default:
		auth, _ := entra.ParseAuthority(p.AuthorityHost, p.Tenant) // validated by settings
		reachable := d.checkAuthority(ctx, auth)
		redirect := d.checkRedirect(p)
		switch {
		case !reachable:
			d.add(check{ID: "app", Title: "app registration", Status: checkSkip, Summary: "needs the authority host"})
		case o.noClientID || !entra.IsGUID(p.ClientID):
			d.add(check{ID: "app", Title: "app registration", Status: checkSkip, Summary: "needs a valid client ID"})
		default:
			d.checkRegistration(ctx, p, redirect)
		}
	}
	if err := d.print(o); err != nil {
		return err
	}
	if d.failed() {
		return silentExit(ExitError)
	}
	return nil
}

var missingClientID = check{ID: "client-id", Title: "client ID", Status: checkFail, Summary: "none given, and the profile has none",
	Fix: "pass --client-id with the Application (client) ID from the app registration's Overview page"}

// checkSettings merges flags, environment and the stored profile exactly as
// link does (see settings) and reports what is missing or invalid. It
// returns nil when the merged settings cannot be used, and the name of the
// profile's store either way.
func (d *doctor) checkSettings(o *doctorOptions) (*profile.Profile, string) {
	cfg, err := loadConfig()
	if err != nil {
		d.add(check{ID: "config", Title: "settings file", Status: checkFail, Summary: "cannot be read",
			Fix: err.Error()})
		cfg = &profile.Config{Profiles: map[string]*profile.Profile{}}
	}
	l := o.link
	old := cfg.Get(l.Profile)
	storeName := ""
	if old != nil {
		storeName = old.Store
	}
	if l.ClientID == "" && (old == nil || old.ClientID == "") {
		o.noClientID, l.ClientID = true, placeholderClientID
	}
	p, err := settings(d.env, cfg, &l)
	if err != nil {
		if o.noClientID {
			d.add(missingClientID)
		}
		d.add(check{ID: "settings", Title: "settings", Status: checkFail, Summary: "invalid", Fix: err.Error()})
		return nil, storeName
	}

	where := "from the flags and defaults (the profile is not linked yet)"
	if old != nil {
		where = "from the settings file, with the flags given"
	}
	switch {
	case o.noClientID:
		d.add(missingClientID)
	case !entra.IsGUID(p.ClientID):
		// Not echoed: a value in the wrong place may be a client secret.
		d.add(check{ID: "client-id", Title: "client ID", Status: checkFail,
			Summary: fmt.Sprintf("is not a GUID (%d characters)", len(p.ClientID)),
			Fix:     "pass --client-id with the Application (client) ID from the app registration's Overview page (a GUID such as 00000000-0000-0000-0000-000000000000), not a secret or its ID"})
	default:
		d.add(check{ID: "client-id", Title: "client ID", Status: checkOK, Summary: p.ClientID})
	}
	d.add(check{ID: "settings", Title: "settings", Status: checkOK,
		Summary: fmt.Sprintf("profile %q %s: authority %s/%s, method %s, scopes %s",
			p.Name, where, p.AuthorityHost, p.Tenant, p.Method, strings.Join(p.Scopes, " "))})
	return p, p.Store
}

// checkStore checks the store the profile uses. For the OS keyring on
// systems with a Secret Service it first looks for the session bus without
// connecting, so that no D-Bus client is started (or a bus launched) when
// there is none; then Probe tells whether the service answers and is
// unlocked. Every store gets a write/read/delete of a throwaway record,
// then the profile's own record is opened (a throwaway record proves
// nothing about a passphrase); the file store also says whether it
// encrypts.
func (d *doctor) checkStore(name, profileName string) {
	st, err := d.env.OpenStore(name)
	if err != nil {
		d.add(check{ID: "store", Title: "store", Status: checkFail, Summary: "cannot be opened", Fix: err.Error()})
		return
	}
	title := st.Name() + " store"
	if kr, ok := st.(*store.Keyring); ok && usesSecretService() {
		if !d.checkKeyring(kr) {
			d.add(check{ID: "store.roundtrip", Title: "write/read/delete", Status: checkSkip, Summary: "needs a usable keyring"})
			return
		}
	} else if err := probe(st); err != nil {
		d.add(storeFailure("store", title, err))
		return
	}
	item, err := roundTrip(st)
	if err != nil {
		fix := "the store cannot keep tokens reliably; no profile's data was touched"
		if item != "" {
			fix += fmt.Sprintf(", but the throwaway item %q may be left behind (it holds no secret)", item)
		}
		d.add(check{ID: "store.roundtrip", Title: "write/read/delete", Status: checkFail, Summary: oneLine(err.Error()), Fix: fix})
		return
	}
	d.add(check{ID: "store.roundtrip", Title: "write/read/delete", Status: checkOK,
		Summary: "a throwaway record the size of real tokens was stored, read back and removed from the " + title})
	if f, ok := st.(*store.File); ok {
		d.checkFileModes(f, profileName)
		d.checkEncryption(f, profileName)
	}
	d.checkRecord(st, profileName)
}

// checkEncryption says whether the file store keeps the profile's tokens
// encrypted. Plain text is a choice (the files are 0600), so a warning.
func (d *doctor) checkEncryption(f *store.File, profileName string) {
	c := check{ID: "store.encryption", Title: "encryption"}
	stored, err := f.RecordEncrypted(profileName)
	switch {
	case err == nil && stored:
		c.Status, c.Summary = checkOK, fmt.Sprintf("the record of profile %q is encrypted (age, scrypt)", profileName)
	case err == nil && f.Encrypted():
		c.Status, c.Summary = checkWarn, fmt.Sprintf("the record of profile %q is still plain text; its next write encrypts it with the passphrase from %s", profileName, f.PassphraseFrom)
		c.Fix = "run: ms365auth reauth" + profileFlag(profileName)
	case f.Encrypted():
		c.Status, c.Summary = checkOK, "new records are encrypted (age, scrypt) with the passphrase from "+f.PassphraseFrom
	default:
		c.Status, c.Summary = checkWarn, "tokens are kept in plain text, in files only you can read"
		c.Fix = "to encrypt them, set " + store.EnvPassphraseFile + " to a file holding a passphrase (or " + store.EnvPassphrase + "); the next write encrypts"
	}
	d.add(c)
}

// checkRecord opens the profile's own record, as token would, when there
// is one. Nothing of it is shown.
func (d *doctor) checkRecord(st store.Store, profileName string) {
	c := check{ID: "store.record", Title: "profile's tokens"}
	_, err := st.Load(profileName)
	switch {
	case err == nil:
		c.Status, c.Summary = checkOK, fmt.Sprintf("the record of profile %q opens", profileName)
	case errors.Is(err, store.ErrNotFound):
		return // not linked yet: nothing to open
	default:
		c = storeFailure(c.ID, c.Title, err)
		if fix := unreadableFix(err, profileName); fix != "" {
			c.Fix = fix
		}
	}
	d.add(c)
}

// checkFileModes warns of file store files that other users can read,
// before checkRecord's read makes them private.
func (d *doctor) checkFileModes(f *store.File, profileName string) {
	open := f.OpenToOthers(profileName)
	if len(open) == 0 {
		return
	}
	d.add(check{ID: "store.permissions", Title: "file permissions", Status: checkWarn,
		Summary: "open to other users: " + strings.Join(open, ", "),
		Fix:     "ms365auth makes them private again when it reads them (this check included; by hand: chmod 700 the directory, chmod 600 the files); if anyone else could read them, treat the tokens as leaked (https://github.com/ms365auth/ms365auth/blob/main/docs/security.md#the-file-store)"})
}

// usesSecretService reports whether go-keyring talks to a Secret Service
// over D-Bus here (every Unix but macOS).
func usesSecretService() bool { return runtime.GOOS != "darwin" && runtime.GOOS != "windows" }

// The remedy shared by the no-bus findings.
const busRemedy = "run inside a desktop or systemd user session (for cron and SSH: `loginctl enable-linger $USER`, then DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus), or keep the tokens in a file instead: MS365AUTH_STORE=file"

// checkKeyring reports the bus, the service and the lock state, and says
// whether the keyring can be used.
func (d *doctor) checkKeyring(kr *store.Keyring) bool {
	bus, found := findSessionBus(d.env.Getenv)
	if !found {
		d.add(check{ID: "keyring.bus", Title: "D-Bus session bus", Status: checkFail, Summary: bus, Fix: busRemedy})
		d.add(check{ID: "keyring.service", Title: "Secret Service", Status: checkSkip, Summary: "needs a session bus"})
		d.add(check{ID: "keyring.unlocked", Title: "keyring unlocked", Status: checkSkip, Summary: "needs a Secret Service"})
		return false
	}
	err := kr.Probe()
	var ue *store.UnavailableError
	if err != nil && !errors.As(err, &ue) {
		d.add(check{ID: "keyring.bus", Title: "D-Bus session bus", Status: checkOK, Summary: bus})
		d.add(storeFailure("keyring.service", "Secret Service", err))
		d.add(check{ID: "keyring.unlocked", Title: "keyring unlocked", Status: checkSkip, Summary: "needs a Secret Service"})
		return false
	}
	busCheck := check{ID: "keyring.bus", Title: "D-Bus session bus", Status: checkOK, Summary: bus}
	service := check{ID: "keyring.service", Title: "Secret Service", Status: checkOK, Summary: "answers on the session bus"}
	unlocked := check{ID: "keyring.unlocked", Title: "keyring unlocked", Status: checkOK, Summary: "the default collection is unlocked"}
	if ue != nil {
		summary, fix := strings.TrimSuffix(ue.Cause, "."), ue.Remedy
		switch ue.Kind {
		case store.NoSessionBus:
			busCheck.Status, busCheck.Summary, busCheck.Fix = checkFail, bus+"; but the keyring client found "+summary, fix
			service = check{ID: service.ID, Title: service.Title, Status: checkSkip, Summary: "needs a session bus"}
			unlocked = check{ID: unlocked.ID, Title: unlocked.Title, Status: checkSkip, Summary: "needs a Secret Service"}
		case store.KeyringLocked:
			unlocked.Status, unlocked.Summary, unlocked.Fix = checkFail, summary, fix
		default: // no Secret Service, or it did not answer
			service.Status, service.Summary, service.Fix = checkFail, summary, fix
			unlocked = check{ID: unlocked.ID, Title: unlocked.Title, Status: checkSkip, Summary: "needs a Secret Service"}
		}
	}
	d.add(busCheck)
	d.add(service)
	d.add(unlocked)
	return ue == nil
}

// storeFailure turns a store error into a failed check, using the store's
// own cause and remedy when it has them.
func storeFailure(id, title string, err error) check {
	c := check{ID: id, Title: title, Status: checkFail, Summary: oneLine(err.Error())}
	var ue *store.UnavailableError
	if errors.As(err, &ue) {
		c.Summary, c.Fix = strings.TrimSuffix(ue.Cause, "."), ue.Remedy
	}
	return c
}

// findSessionBus says where the D-Bus session bus is, without connecting:
// DBUS_SESSION_BUS_ADDRESS when set (found unless every address in it is a
// socket path that does not exist; abstract sockets and TCP cannot be
// checked without connecting; "autolaunch:" counts as unset), else the
// systemd user bus as the store finds it (store.UserBusSocket).
// The text describes what was found, or what is missing.
func findSessionBus(getenv func(string) string) (string, bool) {
	// "autolaunch:" asks a client to start a bus of its own: no bus yet.
	if addr := getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && !strings.HasPrefix(addr, "autolaunch:") {
		var missing []string
		for _, a := range strings.Split(addr, ";") {
			path, ok := unixPath(a)
			if !ok {
				if strings.TrimSpace(a) != "" {
					return "DBUS_SESSION_BUS_ADDRESS=" + addr, true
				}
				continue
			}
			if isSocket(path) {
				return "DBUS_SESSION_BUS_ADDRESS=" + addr, true
			}
			missing = append(missing, path)
		}
		return fmt.Sprintf("DBUS_SESSION_BUS_ADDRESS=%s, but there is no socket at %s", addr, strings.Join(missing, ", ")), false
	}
	path, tried := store.UserBusSocket(getenv)
	if path == "" {
		return "DBUS_SESSION_BUS_ADDRESS is unset and there is no user bus at " + strings.Join(tried, " or "), false
	}
	return "DBUS_SESSION_BUS_ADDRESS is unset; the user bus is at " + path, true
}

// unixPath returns the socket path of a "unix:path=..." D-Bus address,
// with its %XX escapes decoded.
func unixPath(addr string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(addr), "unix:")
	if !ok {
		return "", false
	}
	for _, kv := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(kv, "path="); ok {
			if p, err := url.PathUnescape(v); err == nil {
				return p, true
			}
		}
	}
	return "", false
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Type() == fs.ModeSocket
}

// roundTrip saves, reads back and deletes a throwaway record, as large as a
// real one (Entra's tokens together run to several kilobytes, which is what
// splits items on Windows and macOS), under a fresh profile name that no
// profile can have. It returns that name when something may be left behind.
func roundTrip(st store.Store) (string, error) {
	name := "ms365auth-doctor-" + randomHex(6)
	rec := &store.Record{
		AccessToken:  "doctor-" + randomText(2400),
		RefreshToken: "doctor-" + randomText(1500),
		TokenType:    "Bearer",
		Account:      "doctor@example.invalid",
		Expiry:       time.Now().Add(time.Hour).Truncate(time.Second),
	}
	if err := st.Save(name, rec); err != nil {
		return "", fmt.Errorf("could not write a test record: %w", err)
	}
	got, err := st.Load(name)
	if err != nil {
		st.Delete(name)
		return name, fmt.Errorf("wrote a test record but could not read it back: %w", err)
	}
	if got.AccessToken != rec.AccessToken || got.RefreshToken != rec.RefreshToken {
		st.Delete(name)
		return name, errors.New("a test record read back differently from what was written")
	}
	if err := st.Delete(name); err != nil {
		return name, fmt.Errorf("could not delete the test record: %w", err)
	}
	if _, err := st.Load(name); !errors.Is(err, store.ErrNotFound) {
		return name, errors.New("the test record is still there after it was deleted")
	}
	return "", nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// doctorHTTP is env's HTTP client with the doctor's timeout. Redirects are
// followed only while they stay on the authority host and do not lead to
// the redirect URI: reaching the redirect URI (or another host, such as a
// federated sign-in) already answers the question, and the doctor must not
// deliver an authorization code anywhere.
func (d *doctor) doctorHTTP(auth entra.Authority, redirectURI string) *http.Client {
	c := &http.Client{Timeout: doctorHTTPTimeout}
	if d.env.HTTPClient != nil {
		c.Transport, c.Jar = d.env.HTTPClient.Transport, d.env.HTTPClient.Jar
	}
	host, _ := url.Parse(auth.Host)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 || !strings.EqualFold(req.URL.Host, host.Host) || atRedirectURI(req.URL, redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

// checkAuthority fetches the tenant's OpenID configuration: the host
// answers, the tenant exists, and the server's Date header shows how far the
// local clock is off. It reports whether the host answered at all.
func (d *doctor) checkAuthority(ctx context.Context, auth entra.Authority) bool {
	ctx, cancel := context.WithTimeout(ctx, doctorHTTPTimeout)
	defer cancel()
	discovery := auth.String() + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discovery, nil)
	if err != nil {
		d.add(check{ID: "authority", Title: "authority host", Status: checkFail, Summary: oneLine(err.Error())})
		return false
	}
	client := d.doctorHTTP(auth, "")
	client.CheckRedirect = flow.RefuseRedirects // the tenant's own answer, or none
	resp, err := client.Do(req)
	var redirect *flow.RedirectError
	if errors.As(err, &redirect) {
		d.add(check{ID: "authority", Title: "authority host", Status: checkFail, Summary: oneLine(redirect.Error())})
		return false
	}
	if err != nil {
		d.add(check{ID: "authority", Title: "authority host", Status: checkFail,
			Summary: fmt.Sprintf("%s did not answer: %s", auth.Host, oneLine(err.Error())),
			Fix:     "check the network, DNS and proxy (HTTPS_PROXY) of this machine, and the authority host (--authority-host or MS365AUTH_AUTHORITY_HOST; " + entra.DefaultAuthorityHost + " for the global cloud)"})
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	defer d.checkClock(resp.Header.Get("Date")) // reported after the host

	var doc struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	hc := entra.HintContext{Tenant: auth.Tenant}
	switch {
	case resp.StatusCode == http.StatusOK && json.Unmarshal(body, &doc) == nil && doc.AuthorizationEndpoint != "" && doc.TokenEndpoint != "":
		d.add(check{ID: "authority", Title: "authority host", Status: checkOK, Summary: auth.Host + " answers"})
		d.add(check{ID: "tenant", Title: "tenant", Status: checkOK, Summary: auth.Tenant + " is known to " + auth.Host})
		return true
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		d.add(check{ID: "authority", Title: "authority host", Status: checkOK, Summary: auth.Host + " answers"})
		e := entra.FromRetrieveError(&oauth2.RetrieveError{Response: resp, Body: body})
		c := check{ID: "tenant", Title: "tenant", Status: checkFail, AADSTS: e.Code,
			Summary: fmt.Sprintf("%s refused tenant %s: %s", auth.Host, auth.Tenant, e.Error())}
		if c.Fix = entra.Hint(e.Code, hc); c.Fix == "" {
			c.Fix = "check --tenant (a tenant ID or verified domain, or common/organizations/consumers) and that the authority host matches your cloud"
		}
		d.add(c)
		return true
	}
	d.add(check{ID: "authority", Title: "authority host", Status: checkFail,
		Summary: fmt.Sprintf("%s answered HTTP %d without an OpenID configuration for %s", auth.Host, resp.StatusCode, auth.Tenant),
		Fix:     "check that the authority host is Entra ID's (" + entra.DefaultAuthorityHost + " for the global cloud) and that no proxy rewrites its answers"})
	return false
}

// checkClock compares the local clock with an HTTP Date header (1-second
// resolution). Beyond maxClockSkew, token lifetimes computed here are off by
// as much, and a refresh may come too late.
func (d *doctor) checkClock(date string) {
	server, err := http.ParseTime(date)
	if err != nil {
		d.add(check{ID: "clock", Title: "clock", Status: checkWarn, Summary: "the server sent no usable Date header, so the clock was not compared"})
		return
	}
	skew := d.env.Now().Sub(server)
	dir := "ahead of"
	if skew < 0 {
		skew, dir = -skew, "behind"
	}
	skew = skew.Round(time.Second)
	if skew > maxClockSkew {
		d.add(check{ID: "clock", Title: "clock", Status: checkWarn,
			Summary: fmt.Sprintf("the local clock is %s %s the server's", skew, dir),
			Fix:     "synchronise the clock (e.g. `timedatectl set-ntp true`); until then token expiry times are off by as much"})
		return
	}
	d.add(check{ID: "clock", Title: "clock", Status: checkOK, Summary: fmt.Sprintf("within %s of the server's", max(skew, time.Second))})
}

// checkRedirect checks the redirect URI the method will use, and for --alt
// binds the callback listener exactly as link would (then closes it). It
// returns the redirect URI link would send: for --alt on a loopback URI
// without a port, with the port the listener got.
func (d *doctor) checkRedirect(p *profile.Profile) string {
	if p.Method == profile.MethodDevice {
		return ""
	}
	if problem := redirectProblem(p.RedirectURI); problem != "" {
		d.add(check{ID: "redirect-uri", Title: "redirect URI", Status: checkFail, Summary: problem,
			Fix: "pass --redirect-uri with the exact URI registered under 'Mobile and desktop applications' (default " + defaultRedirect(p.Method) + ")"})
		return p.RedirectURI
	}
	d.add(check{ID: "redirect-uri", Title: "redirect URI", Status: checkOK, Summary: p.RedirectURI})
	if p.Method != profile.MethodAlt {
		return p.RedirectURI
	}
	l, err := callback.Listen(callback.Config{RedirectURI: p.RedirectURI, Listen: p.Listen, TLSCert: p.TLSCert, TLSKey: p.TLSKey, State: "doctor"})
	if err != nil {
		d.add(check{ID: "listener", Title: "callback listener", Status: checkFail, Summary: "cannot listen", Fix: oneLine(err.Error())})
		return p.RedirectURI
	}
	defer l.Close()
	var addrs []string
	for _, a := range l.Addrs() {
		addrs = append(addrs, a.String())
	}
	d.add(check{ID: "listener", Title: "callback listener", Status: checkOK, Summary: "can listen on " + strings.Join(addrs, " and ")})
	return l.RedirectURI()
}

func defaultRedirect(method string) string {
	if method == profile.MethodAlt {
		return DefaultAltRedirectURI
	}
	return entra.NativeClientRedirectURI
}

// redirectProblem applies Entra's rules for redirect URIs (entra-facts §5):
// absolute, https or http on a loopback host, no fragment, at most 256
// characters, none of ! $ ' ( ) , ; and not [::1]. "" means none broken.
func redirectProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case strings.HasPrefix(strings.ToLower(raw), "urn:ietf:wg:oauth:2.0:oob"):
		return raw + " is the old out-of-band URI, which Entra refuses (AADSTS500119): use " + entra.NativeClientRedirectURI
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Sprintf("%q is not an absolute URL", raw)
	case len(raw) > 256:
		return "it is longer than the 256 characters Entra allows"
	case strings.Contains(raw, "#"):
		return raw + " has a fragment (#), which Entra does not allow"
	case strings.ContainsAny(raw, "!$'(),;"):
		return raw + " contains one of ! $ ' ( ) , ; which Entra does not support"
	case u.Scheme == "https":
		return ""
	case u.Scheme != "http":
		return raw + " must use https (http only for localhost or 127.0.0.1)"
	case u.Hostname() == "::1":
		return raw + " uses [::1], which Entra does not support: use localhost or 127.0.0.1"
	case !entra.IsLoopbackHost(u.Hostname()):
		return raw + " uses http on a host other than localhost: use https"
	}
	return ""
}

// checkRegistration asks the authorize endpoint (or, for device code, the
// device code endpoint) with the very request link would make, and reads
// what Entra reveals before anyone signs in.
func (d *doctor) checkRegistration(ctx context.Context, p *profile.Profile, redirectURI string) {
	ctx, cancel := context.WithTimeout(ctx, doctorHTTPTimeout)
	defer cancel()
	client := newClient(d.env, p, "") // the authorize request never carries a secret
	if p.Method == profile.MethodDevice {
		client.HTTPClient = d.doctorHTTP(client.Authority, "")
		if _, err := client.StartDevice(ctx, flow.Options{}); err != nil {
			d.add(registrationFailure(err, p))
			return
		}
		// The device code is left to expire: nobody will enter it.
		d.add(check{ID: "app", Title: "app registration", Status: checkOK,
			Summary: "the device code endpoint accepts client " + p.ClientID + " (whether 'Allow public client flows' is on shows only at sign-in)"})
		return
	}
	auth, err := client.NewAuthorization(redirectURI, flow.Options{})
	if err != nil {
		d.add(check{ID: "app", Title: "app registration", Status: checkFail, Summary: oneLine(err.Error())})
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, auth.URL, nil)
	if err != nil {
		d.add(check{ID: "app", Title: "app registration", Status: checkFail, Summary: oneLine(err.Error())})
		return
	}
	resp, err := d.doctorHTTP(client.Authority, redirectURI).Do(req)
	if err != nil {
		d.add(check{ID: "app", Title: "app registration", Status: checkFail,
			Summary: "the authorize endpoint did not answer: " + oneLine(err.Error())})
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	a := readAuthorizeAnswer(resp.StatusCode, resp.Header.Get("Location"), body, redirectURI)
	switch {
	case a.err != nil:
		d.add(registrationFailure(a.err, p))
	case a.accepted:
		d.add(check{ID: "app", Title: "app registration", Status: checkOK,
			Summary: fmt.Sprintf("client %s accepts redirect URI %s (%s)", p.ClientID, p.RedirectURI, a.how)})
	default:
		d.add(check{ID: "app", Title: "app registration", Status: checkFail,
			Summary: fmt.Sprintf("the authorize endpoint answered HTTP %d, neither a sign-in page nor an error page", resp.StatusCode),
			Fix:     "check the authority host; run `ms365auth link` to see what the browser shows"})
	}
}

// authorizeAnswer is what the authorize endpoint's first answer reveals.
type authorizeAnswer struct {
	accepted bool         // a sign-in page, or a redirect onwards
	how      string       // how it was accepted, for people
	err      *entra.Error // an error page, or an error sent to the redirect URI
}

var (
	// Personal-account (MSA) pages report an unregistered redirect URI
	// without an AADSTS number (entra-facts §2).
	msaRedirectPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`redirect_uri'? is not valid`) })
)

// readAuthorizeAnswer classifies the authorize endpoint's answer to a
// request made without a browser session. Decision rules, in order:
//
//  1. a redirect to the redirect URI: with error=, that error (the
//     registration was accepted but the request was not, e.g. a scope);
//     otherwise accepted (a test double signed in by itself);
//  2. a redirect elsewhere (another sign-in host, a federated identity
//     provider): accepted;
//  3. a page with "AADSTS<n>" in it: that error. Entra shows problems with
//     the tenant, the client ID and the redirect URI on its own page (HTTP
//     200 from Entra, 400 from the double), because it cannot trust the
//     redirect URI;
//  4. a personal-account page saying the redirect_uri is not valid: 50011;
//  5. any other 200 page: the sign-in page, accepted;
//  6. anything else: neither (accepted false, err nil).
func readAuthorizeAnswer(status int, location string, body []byte, redirectURI string) authorizeAnswer {
	if status >= 300 && status < 400 && location != "" {
		u, err := url.Parse(location)
		if err == nil && atRedirectURI(u, redirectURI) {
			q := u.Query()
			if u.Fragment != "" {
				if fq, err := url.ParseQuery(u.Fragment); err == nil && fq.Get("error") != "" {
					q = fq
				}
			}
			if e := entra.FromQuery(q); e != nil {
				return authorizeAnswer{err: e}
			}
			return authorizeAnswer{accepted: true, how: "the authorize endpoint sent the browser back to it"}
		}
		where := "another page"
		if err == nil && u.Host != "" {
			where = u.Host
		}
		return authorizeAnswer{accepted: true, how: "the authorize endpoint sent the browser on to " + where + " to sign in"}
	}
	if n := entra.CodeIn(string(body)); n != 0 {
		e := &entra.Error{Code: n, HTTPStatus: status}
		if info, ok := entra.LookupCode(n); ok {
			e.Description = info.Meaning
		}
		return authorizeAnswer{err: e}
	}
	if msaRedirectPattern().Match(body) {
		return authorizeAnswer{err: &entra.Error{Code: 50011, HTTPStatus: status, Description: "The redirect URI is not valid for the app."}}
	}
	if status == http.StatusOK {
		return authorizeAnswer{accepted: true, how: "the sign-in page is shown"}
	}
	return authorizeAnswer{}
}

// atRedirectURI reports whether u is at redirectURI: same scheme, host and
// path, ignoring the port of loopback hosts as Entra does.
func atRedirectURI(u *url.URL, redirectURI string) bool {
	r, err := url.Parse(redirectURI)
	if err != nil || redirectURI == "" {
		return false
	}
	if !strings.EqualFold(u.Scheme, r.Scheme) || !strings.EqualFold(u.Hostname(), r.Hostname()) {
		return false
	}
	if !entra.IsLoopbackHost(r.Hostname()) && u.Port() != r.Port() {
		return false
	}
	return strings.TrimSuffix(u.EscapedPath(), "/") == strings.TrimSuffix(r.EscapedPath(), "/")
}

// registrationFailure explains an Entra error about the app registration.
func registrationFailure(err error, p *profile.Profile) check {
	c := check{ID: "app", Title: "app registration", Status: checkFail}
	var e *entra.Error
	if !errors.As(err, &e) {
		c.Summary = oneLine(err.Error())
		return c
	}
	c.AADSTS = e.Code
	switch e.Code {
	case 50011:
		c.Summary = fmt.Sprintf("redirect URI %s is not registered for client %s (AADSTS50011)", p.RedirectURI, p.ClientID)
	case 700016:
		c.Summary = fmt.Sprintf("no app with client ID %s exists in tenant %s (AADSTS700016)", p.ClientID, p.Tenant)
	case 90002:
		c.Summary = fmt.Sprintf("tenant %s was not found (AADSTS90002)", p.Tenant)
	case 50194:
		c.Summary = fmt.Sprintf("the app is single-tenant, so it cannot sign in through %s (AADSTS50194)", p.Tenant)
	default:
		c.Summary = oneLine(e.Error())
	}
	if c.Fix = entra.Hint(e.Code, hintContext(p)); c.Fix == "" && e.Code != 0 {
		c.Fix = fmt.Sprintf("look AADSTS%d up at https://login.microsoftonline.com/error?code=%d", e.Code, e.Code)
	}
	return c
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// print writes the report: JSON, or one line per check with its fix below.
func (d *doctor) print(o *doctorOptions) error {
	rep := doctorReport{Profile: o.link.Profile, OK: !d.failed(), Checks: d.checks}
	if o.JSON {
		enc := json.NewEncoder(d.env.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	var style termio.Styler
	if f, ok := d.env.Out.(*os.File); ok {
		style = termio.NewStyler(f)
	}
	width := 0
	for _, c := range d.checks {
		width = max(width, len(c.Title))
	}
	var b strings.Builder
	for _, c := range d.checks {
		label := fmt.Sprintf("%-4s", c.Status)
		switch c.Status {
		case checkOK:
			label = style.Green(label)
		case checkWarn:
			label = style.Yellow(label)
		case checkFail:
			label = style.Red("FAIL")
		case checkSkip:
			label = style.Dim(label)
		}
		fmt.Fprintf(&b, "%s  %-*s  %s\n", label, width, c.Title, c.Summary)
		if c.Fix != "" {
			fmt.Fprintf(&b, "      %s\n", style.Dim("fix: ")+c.Fix)
		}
	}
	if rep.OK {
		b.WriteString("No problems found.\n")
	} else {
		b.WriteString("Some checks failed: see the fixes above.\n")
	}
	_, err := io.WriteString(d.env.Out, b.String())
	return err
}
