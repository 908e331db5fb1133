// Package diagnose holds the checks behind `ms365auth doctor`: what a
// sign-in and later token requests depend on, examined without signing in.
// Each check is a value (an ID, a title and a function that returns one
// Result); checks come in groups by what they examine, run in order, and
// every result says what was found and, when something is wrong, what to do.
// The package prints nothing and knows no command line: pkg/cli renders a
// Report as text or JSON. Everything it needs from outside (the settings,
// the store, the HTTP client, the environment, the clock) comes in Env.
//
// Checks that depend on one that did not pass report Skip, and independent
// ones still run, so one run shows every problem that can be seen. A check
// whose subject does not apply (the listener of a method without one, the
// file permissions of the keyring) returns a Result with an empty Status
// and is left out of the report.
//
// Adding a group of checks (mail logins, say):
//
//  1. write a function returning a Group, in a file of its own, whose
//     checks have stable IDs under a prefix of their own ("mail.imap");
//  2. let each check's Run read what it needs from the Examination (the
//     merged settings with x.profile(), the opened store with x.openStore(),
//     earlier results with x.Status) and return skip("needs ...") when a
//     check it depends on did not pass;
//  3. add what it needs from outside as fields of Env, filled in by
//     pkg/cli (doctor.go), with doubles for them in the tests;
//  4. append the group to Groups, and its check IDs to the docs (or, for
//     a group that answers another question, give it a list of groups of
//     its own, as MailGroups does for doctor --mail).
package diagnose

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/servertext"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// Status is the outcome of one check, from best to worst. A skipped check
// did not run because one it depends on failed; it does not fail the run
// by itself.
type Status string

// Outcomes of a check.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is one line of the report. No field ever holds a token, a client
// secret or a value that might be one.
type Result struct {
	ID      string `json:"id"`    // stable, e.g. "keyring.bus"
	Title   string `json:"title"` // what was checked, for people
	Status  Status `json:"status"`
	Summary string `json:"summary"` // what was found
	// Reason is the likely cause of a failure, one line, where the check
	// can tell (a mail server's refusal explained).
	Reason string `json:"cause,omitempty"`
	Fix    string `json:"fix,omitempty"`
	AADSTS int    `json:"aadsts,omitempty"` // Entra's error number, when it gave one
	// Cause is the error behind a failure, for callers that branch on it
	// (errors.As); it is not part of the report.
	Cause error `json:"-"`
}

// Check is one thing to examine. Run returns its result; the Check's ID
// and Title fill in the result's when Run leaves them empty.
type Check struct {
	ID    string
	Title string
	Run   func(ctx context.Context, x *Examination) Result
}

// Group is a list of checks of one subject, run in order.
type Group struct {
	Name   string
	Checks []Check
}

// Groups are the groups doctor runs, in order.
func Groups() []Group {
	return []Group{SettingsGroup(), StoreGroup(), AuthorityGroup(), RegistrationGroup()}
}

// Env is what the checks need from outside, filled in by the command.
type Env struct {
	Profile  string // the profile to examine
	ClientID string // the client ID given on the command line, "" for the profile's

	// LoadConfig reads the settings file.
	LoadConfig func() (*profile.Config, error)
	// Merge merges the command line, the environment and cfg's profile as
	// link does; clientID, when not "", replaces the command line's.
	Merge func(cfg *profile.Config, clientID string) (*profile.Profile, error)
	// OpenStore opens a store by name ("" is the default).
	OpenStore func(name string) (store.Store, error)
	// HTTPClient's transport and cookie jar carry the network checks; nil
	// means Go's defaults.
	HTTPClient *http.Client
	Getenv     func(string) string
	Now        func() time.Time

	// Hints fills in the AADSTS fixes for p (see entra.Hint).
	Hints func(p *profile.Profile) entra.HintContext
	// ReauthCommand is the command that signs profileName in again.
	ReauthCommand func(profileName string) string
	// UnreadableFix says how to get at a record that exists but cannot be
	// opened, "" when err is not of that kind.
	UnreadableFix func(err error, profileName string) string
	// DefaultRedirectURI is the redirect URI of a sign-in method when none
	// is set.
	DefaultRedirectURI func(method string) string

	// Mail, when set, asks MailGroup for the mail logins.
	Mail *Mail
	// AccessToken gets profileName's access token for scopes, renewing it
	// when needed (account.AccessToken). Its errors say what to run.
	AccessToken func(ctx context.Context, profileName string, scopes []string) (string, error)
}

// Report is the outcome of a run.
type Report struct {
	Profile string   `json:"profile"`
	OK      bool     `json:"ok"` // no check failed (warnings allowed)
	Checks  []Result `json:"checks"`
}

// Run runs the checks of groups in order and reports their results.
func Run(ctx context.Context, env *Env, groups []Group) Report {
	x := &Examination{env: env}
	for _, g := range groups {
		for _, c := range g.Checks {
			x.record(c, c.Run(ctx, x))
		}
	}
	return Report{Profile: env.Profile, OK: !x.failed(), Checks: x.results}
}

// Examination is the state of one run: the results so far, and what
// several checks look at, worked out once (the merged settings, the opened
// store, the authority's answer).
type Examination struct {
	env     *Env
	results []Result

	settings  *settingsFacts
	store     *storeFacts
	discovery *discoveryFacts
	mail      *mailFacts

	redirectURI string // the redirect URI link would send, once known
}

// record adds a result. Summaries quote what servers answered, so they are
// cleaned of anything that could act on a terminal.
func (x *Examination) record(c Check, r Result) {
	if r.Status == "" {
		return
	}
	if r.ID == "" {
		r.ID = c.ID
	}
	if r.Title == "" {
		r.Title = c.Title
	}
	r.Summary, r.Reason = servertext.Clean(r.Summary), servertext.Clean(r.Reason)
	x.results = append(x.results, r)
}

// Status returns the status the check with this ID reported, "" when it
// has not (yet).
func (x *Examination) Status(id string) Status {
	for i := len(x.results) - 1; i >= 0; i-- {
		if x.results[i].ID == id {
			return x.results[i].Status
		}
	}
	return ""
}

func (x *Examination) failed() bool {
	for _, r := range x.results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

func (x *Examination) now() time.Time {
	if x.env.Now != nil {
		return x.env.Now()
	}
	return time.Now()
}

// skip is a check that did not run because of another.
func skip(why string) Result { return Result{Status: Skip, Summary: why} }

// failure is a failed check caused by err.
func failure(err error) Result {
	return Result{Status: Fail, Summary: oneLine(err.Error()), Cause: err}
}

// storeFailure turns a store error into a failed check, using the store's
// own cause and remedy when it has them.
func storeFailure(err error) Result {
	r := failure(err)
	var ue *store.UnavailableError
	if errors.As(err, &ue) {
		r.Summary, r.Fix = strings.TrimSuffix(ue.Cause, "."), ue.Remedy
	}
	return r
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
