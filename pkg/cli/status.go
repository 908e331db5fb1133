package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/servertext"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/termio"
	"github.com/ms365auth/ms365auth/pkg/tokenlife"
)

// Token states as status reports them.
const (
	StateValid       = "valid"        // the access token is usable now
	StateExpired     = "expired"      // expired, but a refresh token can renew it
	StateNeedsReauth = "needs_reauth" // a person must sign in
	StateNotLinked   = "not_linked"
	StateUnreadable  = "unreadable" // linked, but its record cannot be opened here
)

type statusOptions struct {
	Profile string
	All     bool
	JSON    bool
}

// profileStatus is the JSON shape of one profile's status. It never holds
// a token.
type profileStatus struct {
	Profile              string       `json:"profile"`
	Linked               bool         `json:"linked"`
	State                string       `json:"state"`
	Account              string       `json:"account,omitempty"`
	Name                 string       `json:"name,omitempty"`
	TenantID             string       `json:"tenant_id,omitempty"`
	ClientID             string       `json:"client_id,omitempty"`
	Authority            string       `json:"authority,omitempty"`
	Method               string       `json:"method,omitempty"`
	RedirectURI          string       `json:"redirect_uri,omitempty"`
	Scopes               []string     `json:"scopes"`
	ScopesAsRequested    bool         `json:"scopes_as_requested,omitempty"` // the server did not list them
	RequestedScopes      []string     `json:"requested_scopes,omitempty"`
	AccessTokenExpiresAt *time.Time   `json:"access_token_expires_at,omitempty"`
	RefreshToken         bool         `json:"refresh_token"`
	RefreshTokenDaysLeft *int         `json:"refresh_token_days_left,omitempty"`
	LinkedAt             *time.Time   `json:"linked_at,omitempty"`
	LastRefreshAt        *time.Time   `json:"last_refresh_at,omitempty"`
	Store                string       `json:"store,omitempty"`
	Encrypted            *bool        `json:"encrypted,omitempty"` // file store only: the record on disk
	Reason               string       `json:"reason,omitempty"`
	Fix                  string       `json:"fix,omitempty"`
	Sandbox              bool         `json:"sandbox,omitempty"`
	Error                string       `json:"error,omitempty"`
	OtherTokens          []otherToken `json:"other_tokens,omitempty"`
	Warnings             []string     `json:"warnings,omitempty"`

	passphraseSet bool // file store: new writes are encrypted
}

func newStatusCmd(env *Env) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what is linked and whether it is usable",
		Long: `Show what is linked and whether its tokens are usable, without contacting Entra ID.

States: valid (usable now), expired (a refresh token will renew it),
needs_reauth (a person must sign in: run "ms365auth reauth"), not_linked,
and unreadable (linked, but the record cannot be opened here, e.g. the file
store's passphrase is missing or wrong; the fix is shown).
For the file store, "encrypted" says whether the record is encrypted.
Tokens that "token --scopes" keeps for other resources (e.g. Outlook for
IMAP and SMTP) are listed with their expiry ("other_tokens" in --json).
A refresh token unused for 90 days is refused by Entra, so past that
the state is needs_reauth. From 14 days before, status warns (a "warnings"
list in --json) and names the command that renews it.
Exit status: 0 when usable, 3 when a person must sign in, 1 on other errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			return statusRun(env, o)
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "show every profile")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON on standard output")
	return cmd
}

func statusRun(env *Env, o *statusOptions) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	names := selectProfiles(cfg, o.Profile, o.All)
	now := env.Now()
	var list []profileStatus
	worst := ExitOK
	stores := map[string]store.Store{}
	for _, name := range names {
		s := describe(env, cfg.Get(name), name, stores, now)
		list = append(list, s)
		worst = max(worst, statusExit(s))
	}
	if o.JSON {
		enc := json.NewEncoder(env.Out)
		enc.SetIndent("", "  ")
		var v any = list
		if !o.All {
			v = list[0]
		} else if list == nil {
			v = []profileStatus{}
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		printStatus(env, list, now)
		if !o.All {
			printOtherProfiles(env, cfg, o.Profile)
		}
	}
	if worst != ExitOK {
		return silentExit(worst)
	}
	return nil
}

func statusExit(s profileStatus) int {
	switch {
	case s.Error != "" || s.State == StateUnreadable:
		return ExitError
	case s.State == StateNeedsReauth || s.State == StateNotLinked:
		return ExitSignIn
	}
	return ExitOK
}

// describe reads one profile's record (one store read) and judges it.
func describe(env *Env, p *profile.Profile, name string, stores map[string]store.Store, now time.Time) profileStatus {
	s := profileStatus{Profile: name, State: StateNotLinked, Scopes: []string{}}
	if p == nil {
		return s
	}
	s.ClientID, s.Method, s.RedirectURI, s.Sandbox = p.ClientID, p.Method, p.RedirectURI, p.Sandbox
	s.Authority = strings.TrimSuffix(p.AuthorityHost, "/") + "/" + p.Tenant
	s.RequestedScopes = p.Scopes
	s.Store = p.Store
	storeName, err := profileStoreName(env, p)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Store = storeName
	st, ok := stores[storeName]
	if !ok {
		opened, err := env.OpenStore(storeName)
		if err != nil {
			s.Error = err.Error()
			return s
		}
		st = &stickyStore{Store: opened}
		stores[storeName] = st
	}
	if f := fileStoreOf(st); f != nil {
		s.passphraseSet = f.Encrypted()
		if enc, err := f.RecordEncrypted(name); err == nil {
			s.Encrypted = &enc
		}
	}
	rec, err := st.Load(name)
	if errors.Is(err, store.ErrNotFound) {
		s.Reason = "settings exist but no tokens are stored"
		return s
	}
	if fix := unreadableFix(err, name); fix != "" {
		s.Linked, s.State, s.Reason, s.Fix = true, StateUnreadable, err.Error(), fix
		return s
	}
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Linked = true
	// Cleaned again: a record stored by an older version may hold raw claims.
	s.Account, s.Name, s.TenantID = servertext.Clean(rec.Account), servertext.Clean(rec.Name), servertext.Clean(rec.TenantID)
	if rec.Scopes != nil {
		s.Scopes, s.ScopesAsRequested = rec.Scopes, rec.ScopesAsRequested
	}
	s.RefreshToken = rec.RefreshToken != ""
	s.AccessTokenExpiresAt = timePtr(rec.Expiry)
	s.LinkedAt = timePtr(rec.LinkedAt)
	s.LastRefreshAt = timePtr(rec.LastRefreshAt)
	s.OtherTokens = otherTokens(rec, now)
	if left, ok := tokenlife.DaysLeft(rec, now); ok && !rec.NeedsReauth {
		s.RefreshTokenDaysLeft = &left
	}
	switch {
	case rec.NeedsReauth:
		s.State, s.Reason, s.Fix = StateNeedsReauth, servertext.Safe(rec.ReauthReason), servertext.Safe(rec.ReauthFix)
	case tokenlife.Dead(rec, now):
		// Checked before the access token: whatever it has left is hours,
		// and no refresh will follow it.
		s.State, s.Reason = StateNeedsReauth, refreshTokenDeadReason
	case now.Before(rec.Expiry):
		s.State = StateValid
	case s.Sandbox:
		s.State, s.Reason = StateNeedsReauth, sandboxEndedReason
	case s.RefreshToken:
		s.State = StateExpired
	default:
		s.State, s.Reason = StateNeedsReauth, "the access token expired and there is no refresh token"
	}
	if s.State != StateNeedsReauth && s.RefreshTokenDaysLeft != nil && *s.RefreshTokenDaysLeft <= tokenlife.WarnDays {
		s.Warnings = append(s.Warnings, refreshTokenWarning(name, *s.RefreshTokenDaysLeft))
	}
	return s
}

// refreshTokenDeadReason is why a profile whose refresh token went unused
// past Entra's cut-off needs a person.
const refreshTokenDeadReason = "the refresh token went unused for 90 days, so Entra refuses it (AADSTS700082)"

// refreshTokenWarning says that the refresh token dies soon unless used,
// and what keeps it alive.
func refreshTokenWarning(profile string, days int) string {
	return fmt.Sprintf("the refresh token dies %s unless used: run ms365auth reauth --non-interactive%s, best daily from cron (see the cron recipe, https://github.com/ms365auth/ms365auth/blob/main/docs/recipes.md#cron)",
		inDays(days), profileFlag(profile))
}

// warnRefreshTokenEnding prints one line on stderr when the refresh token
// has fewer than tokenlife.UrgentDays left. A refresh that succeeded has
// restarted its clock, so this speaks only when none happened or it failed.
func warnRefreshTokenEnding(env *Env, profile string, rec *store.Record) {
	now := env.Now()
	if rec != nil && tokenlife.Urgent(rec, now) {
		days, _ := tokenlife.DaysLeft(rec, now)
		fmt.Fprintln(env.Err, "warning: "+refreshTokenWarning(profile, days))
	}
}

// inDays says when, days (at least 1: a refresh token with none left is
// dead, and then no warning is given) from now.
func inDays(days int) string {
	if days == 1 {
		return "in 1 day"
	}
	return fmt.Sprintf("in %d days", days)
}

// unreadableFix says how to get at a record that exists but cannot be
// opened (a missing or wrong passphrase, a damaged entry); "" for any
// other error.
func unreadableFix(err error, profile string) string {
	relink := "ms365auth link" + profileFlag(profile)
	switch {
	case errors.Is(err, store.ErrPassphrase):
		return fmt.Sprintf("set %s, or %s, to the passphrase the tokens were stored with; if it is lost, sign in again, which replaces them: %s",
			store.EnvPassphrase, store.EnvPassphraseFile, relink)
	case errors.Is(err, store.ErrCorrupt):
		return "sign in again, which replaces the damaged record: " + relink
	}
	return ""
}

// fileStoreOf returns the file store behind st, or nil for another store.
func fileStoreOf(st store.Store) *store.File {
	if s, ok := st.(*stickyStore); ok {
		st = s.Store
	}
	f, _ := st.(*store.File)
	return f
}

// storeText says where the tokens are and, for the file store, whether
// they are encrypted.
func storeText(s profileStatus) string {
	switch {
	case s.Encrypted == nil:
		return s.Store
	case *s.Encrypted:
		return s.Store + ", encrypted with a passphrase"
	case s.passphraseSet:
		write := "ms365auth reauth" + profileFlag(s.Profile)
		if s.Sandbox {
			write = "ms365auth link --sandbox" // the ended sandbox cannot refresh
		}
		return s.Store + ", not encrypted yet (its next write encrypts it: " + write + ")"
	}
	return s.Store + ", not encrypted (to encrypt it, set " + store.EnvPassphraseFile + " or " + store.EnvPassphrase + ")"
}

// otherToken is an access token kept for another resource (token --scopes),
// e.g. Exchange for IMAP and SMTP. It never holds the token.
type otherToken struct {
	Resource  string     `json:"resource"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Valid     bool       `json:"valid"`
}

// otherTokens lists a record's tokens for other resources, in a stable
// order (by the scopes they were asked for).
func otherTokens(rec *store.Record, now time.Time) []otherToken {
	var out []otherToken
	for _, key := range slices.Sorted(maps.Keys(rec.Resources)) {
		t := rec.Resources[key]
		scopes := strings.Fields(key)
		resource := ""
		if len(scopes) > 0 {
			resource = entra.ScopeResource(scopes[0])
		}
		out = append(out, otherToken{Resource: resource, Scopes: scopes, ExpiresAt: timePtr(t.Expiry), Valid: t.AccessToken != "" && now.Before(t.Expiry)})
	}
	return out
}

// stickyStore remembers that a store is unavailable, so that status --all
// waits for a hung keyring once, not once per profile.
type stickyStore struct {
	store.Store
	down error
}

func (s *stickyStore) Load(name string) (*store.Record, error) {
	if s.down != nil {
		return nil, s.down
	}
	rec, err := s.Store.Load(name)
	var u *store.UnavailableError
	if errors.As(err, &u) {
		s.down = err
	}
	return rec, err
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

func printStatus(env *Env, list []profileStatus, now time.Time) {
	if len(list) == 0 {
		fmt.Fprintln(env.Out, "No profiles yet. Link one with: ms365auth link --client-id <application ID>")
		return
	}
	var style termio.Styler // styles what goes to stdout only when stdout is a terminal
	if f, ok := env.Out.(*os.File); ok {
		style = termio.NewStyler(f)
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(env.Out)
		}
		title := s.Profile
		if s.Sandbox {
			title += " (sandbox: a local stand-in, not Microsoft)"
		}
		fmt.Fprintln(env.Out, style.Bold(title))
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(env.Out, "  %-14s %s\n", k+":", v)
			}
		}
		if s.Error != "" {
			row("error", s.Error)
			continue
		}
		if s.State == StateUnreadable {
			row("state", style.Red("unreadable")+": "+s.Reason)
			row("fix", s.Fix)
			row("store", storeText(s))
			continue
		}
		if !s.Linked {
			row("state", "not linked")
			if s.Profile == profile.SandboxName {
				row("fix", "ms365auth link --sandbox")
			} else {
				row("fix", "ms365auth link"+profileFlag(s.Profile)+clientIDHint(s))
			}
			continue
		}
		row("account", accountLabel(s.Account, s.Name))
		row("state", describeState(s, now, style))
		row("fix", s.Fix) // beyond signing in again, when a refusal said so
		row("tenant", s.TenantID)
		row("client id", s.ClientID)
		row("authority", s.Authority)
		row("method", s.Method)
		row("redirect uri", s.RedirectURI)
		// What the profile asks for, and what the last token granted: Entra
		// also grants what it was given consent for earlier.
		row("requested", strings.Join(entra.ResourceScopes(s.RequestedScopes), " "))
		granted := strings.Join(s.Scopes, " ")
		if s.ScopesAsRequested {
			granted += " (as requested: the server did not list them)"
		}
		row("granted", granted)
		for _, t := range s.OtherTokens {
			row("other token", describeOtherToken(t, now))
		}
		switch {
		case s.State == StateNeedsReauth && s.RefreshToken:
			row("refresh token", "yes, but it no longer works")
		case s.RefreshTokenDaysLeft != nil:
			row("refresh token", fmt.Sprintf("yes, dies after %d more days unused", *s.RefreshTokenDaysLeft))
		case !s.RefreshToken:
			row("refresh token", "none")
		}
		if s.LinkedAt != nil {
			row("linked", s.LinkedAt.Local().Format(time.RFC1123))
		}
		if s.LastRefreshAt != nil {
			row("last refresh", s.LastRefreshAt.Local().Format(time.RFC1123))
		}
		row("store", storeText(s))
		for _, w := range s.Warnings {
			row("warning", style.Yellow(w))
		}
	}
}

// printOtherProfiles names the profiles a bare status did not show, so
// that a newcomer who linked "sandbox" or "work" does not read "not
// linked" as the whole story.
func printOtherProfiles(env *Env, cfg *profile.Config, shown string) {
	var others []string
	for _, name := range cfg.Names() {
		if name != shown {
			others = append(others, name)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(env.Out, "\nOther profiles: %s (all of them: ms365auth status --all)\n", strings.Join(others, ", "))
	}
}

func clientIDHint(s profileStatus) string {
	if s.ClientID == "" {
		return " --client-id <application ID>"
	}
	return ""
}

func describeState(s profileStatus, now time.Time, style termio.Styler) string {
	switch s.State {
	case StateValid:
		return style.Green("valid") + " (access token expires in " + roughly(s.AccessTokenExpiresAt.Sub(now)) + ")"
	case StateExpired:
		return style.Yellow("expired") + " (the refresh token will renew it)"
	default:
		reason := s.Reason
		if reason == "" {
			reason = "sign in again"
		}
		run := "ms365auth reauth" + profileFlag(s.Profile)
		if s.Sandbox {
			run = "ms365auth link --sandbox"
		}
		return style.Red("needs sign-in") + ": " + reason + "; run: " + run
	}
}

func describeOtherToken(t otherToken, now time.Time) string {
	var names []string
	for _, sc := range t.Scopes {
		names = append(names, strings.TrimPrefix(sc, t.Resource+"/"))
	}
	what := t.Resource + " (" + strings.Join(names, " ") + ")"
	if t.Valid {
		return what + ", expires in " + roughly(t.ExpiresAt.Sub(now))
	}
	return what + ", expired (the next token --scopes renews it)"
}

// roughly writes a duration as a person would say it: "1h 5m", "59m", "20s".
func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d%time.Hour < time.Minute:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
}
