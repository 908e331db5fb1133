package entra

import (
	"crypto/subtle"
	"net/url"
	"strconv"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Problem says what is wrong with a pasted returned URL.
type Problem int

const (
	NotAURL       Problem = iota + 1 // not parseable / empty
	WrongPlace                       // .../common/wrongplace dead end
	AuthorizeURL                     // the sign-in link pasted back by mistake
	WrongRedirect                    // scheme/host/path differ from the redirect URI
	ErrorRedirect                    // error= in the URL (Err holds it)
	StateMismatch                    // state missing or different
	MissingCode                      // no code: most likely truncated
	Repeated                         // code or state more than once
	AdminConsent                     // the answer to an admin consent request: no code
)

var problemNames = map[Problem]string{
	NotAURL:       "NotAURL",
	WrongPlace:    "WrongPlace",
	AuthorizeURL:  "AuthorizeURL",
	WrongRedirect: "WrongRedirect",
	ErrorRedirect: "ErrorRedirect",
	StateMismatch: "StateMismatch",
	MissingCode:   "MissingCode",
	Repeated:      "Repeated",
	AdminConsent:  "AdminConsent",
}

// String is the constant's name, for logs and test output.
func (p Problem) String() string {
	if s, ok := problemNames[p]; ok {
		return s
	}
	return "Problem(" + strconv.Itoa(int(p)) + ")"
}

// ReturnedURLError is returned by ParseReturnedURL. Error() is one or two
// lines: the cause, then the fix. It never contains the code.
type ReturnedURLError struct {
	Problem     Problem
	RedirectURI string
	Err         *Error // set for ErrorRedirect
	// AdminConsentURL, set by a caller who knows the app and tenant, is
	// handed on when Err needs an admin's approval (see HintContext).
	AdminConsentURL string
	// StartOver is the command that starts the sign-in again, as the
	// person started it (with its profile, --sandbox...); "" says
	// "ms365auth link".
	StartOver string
}

func (e *ReturnedURLError) startOver() string {
	if e.StartOver == "" {
		return "ms365auth link"
	}
	return e.StartOver
}

func (e *ReturnedURLError) Error() string {
	cause, fix := e.explain()
	if fix == "" {
		return cause
	}
	return cause + "\n" + fix
}

// Unwrap gives errors.As access to the Entra error of an error redirect.
func (e *ReturnedURLError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

func (e *ReturnedURLError) explain() (cause, fix string) {
	startsWith := "https://"
	redirect := "the redirect URI"
	if r := strings.TrimSpace(servertext.Clean(e.RedirectURI)); r != "" {
		startsWith, redirect = r, r
	}
	switch e.Problem {
	case NotAURL:
		return "that is not a URL: the whole address of the page you land on after signing in is needed, not only the code",
			"copy the whole address bar (it starts with " + startsWith + ")"
	case WrongPlace:
		return "Microsoft's page sent the browser to a dead end (…/wrongplace) instead of the redirect URI, so there is no code to paste",
			"run `ms365auth link --alt` (callback listener) or `ms365auth link --device` instead"
	case AuthorizeURL:
		return "this is the sign-in link itself, not the page you land on after signing in",
			"open it, sign in, then copy the address bar of the page you land on"
	case WrongRedirect:
		return "this URL is not at the redirect URI this sign-in uses (" + redirect + ")",
			"copy the address bar of the page Microsoft sends you to after signing in; it starts with " + startsWith
	case ErrorRedirect:
		if e.Err == nil {
			return "sign-in failed", "run `" + e.startOver() + "` again"
		}
		fix := asFixLine(Hint(e.Err.Code, HintContext{RedirectURI: e.RedirectURI, AdminConsentURL: e.AdminConsentURL, LinkCommand: e.StartOver, ReauthCommand: e.StartOver}))
		if fix == "" && e.Err.Suberror == "cancel" {
			fix = "run `" + e.startOver() + "` again and finish signing in"
		}
		if fix == "" && e.Err.Err == "access_denied" {
			fix = "run `" + e.startOver() + "` again and accept the permissions the app asks for"
		}
		return "sign-in failed: " + e.Err.Error(), fix
	case StateMismatch:
		return "this URL does not belong to this sign-in (its state is missing or different): it is from another attempt, or was cut short when copied",
			"use the URL from the browser window this run opened, or run `" + e.startOver() + "` again"
	case Repeated:
		return "this URL carries its code or state more than once, which a real redirect never does: it was altered, or pasted together from two",
			"copy the address bar of the page you land on once, as it is"
	case AdminConsent:
		return "this is the answer to an admin consent request (admin_consent=…), not to a sign-in, so it holds no code",
			"the consent is recorded: run `" + e.startOver() + "` again, sign in, and paste the URL of that sign-in"
	case MissingCode:
		return "no authorization code: the URL was probably cut short when copied (codes run to ~1,500 characters)",
			"copy the whole address bar, or pass it with --returned-url or on standard input"
	}
	return "the returned URL is not usable", ""
}

// asFixLine turns a table fix (a sentence, as the docs show it) into the
// lower-case second line of a message, like the other fixes here.
func asFixLine(fix string) string {
	fix = strings.TrimSuffix(fix, ".")
	if len(fix) > 1 && 'A' <= fix[0] && fix[0] <= 'Z' && 'a' <= fix[1] && fix[1] <= 'z' {
		fix = string(fix[0]+'a'-'A') + fix[1:]
	}
	return fix
}

// trimCutset is what people and chat tools wrap around a pasted URL.
const trimCutset = " \t\r\n'\"<>`"

// ParseReturnedURL checks a URL pasted from the browser's address bar against
// the redirect URI and the state that was sent, and returns the code.
// Surrounding spaces, quotes and angle brackets are tolerated, as are line
// breaks inside (mail and chat tools wrap long URLs). Parameters may be in
// the query or, for response_mode=fragment, after '#'; a bare trailing '#'
// is ignored, and parameters other than code, state and error are ignored.
//
// The checks, in order, each giving a *ReturnedURLError:
//  1. not an http(s) URL with a host: NotAURL;
//  2. the path ends in /wrongplace: WrongPlace;
//  3. an error parameter: ErrorRedirect, with Err filled in;
//  4. no code, but client_id with response_type or code_challenge: the
//     sign-in link itself, AuthorizeURL (the MFA redirect URI is an
//     authorize URL too, so this is judged only when there is no code);
//     no code but admin_consent (the adminconsent endpoint's answer, with a
//     state of its own): AdminConsent;
//  5. scheme, host or path differ from redirectURI: WrongRedirect. As Entra
//     does, the port is ignored for loopback hosts, and an empty path equals
//     "/". An empty redirectURI skips this check;
//  6. code or state given more than once: Repeated (the callback listener
//     requires exactly one of each too; which one would count is anyone's
//     guess);
//  7. state missing or different from wantState: StateMismatch (an empty
//     wantState therefore never matches);
//  8. code missing or blank: MissingCode.
func ParseReturnedURL(raw, redirectURI, wantState string) (code string, err error) {
	fail := func(p Problem) (string, error) {
		return "", &ReturnedURLError{Problem: p, RedirectURI: redirectURI}
	}
	s := strings.Trim(raw, trimCutset)
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	u, perr := url.Parse(s)
	if s == "" || perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(NotAURL)
	}
	if strings.HasSuffix(strings.ToLower(strings.TrimRight(u.Path, "/")), "/wrongplace") {
		return fail(WrongPlace)
	}
	params := returnedParams(u)
	if e := FromQuery(params); e != nil {
		return "", &ReturnedURLError{Problem: ErrorRedirect, RedirectURI: redirectURI, Err: e}
	}
	code = strings.TrimSpace(params.Get("code"))
	if code == "" && params.Has("client_id") && (params.Has("response_type") || params.Has("code_challenge")) {
		return fail(AuthorizeURL)
	}
	if code == "" && params.Has("admin_consent") {
		return fail(AdminConsent)
	}
	if redirectURI != "" && !sameRedirect(u, redirectURI) {
		return fail(WrongRedirect)
	}
	if len(params["code"]) > 1 || len(params["state"]) > 1 {
		return fail(Repeated)
	}
	got := params.Get("state")
	if !params.Has("state") || wantState == "" || subtle.ConstantTimeCompare([]byte(got), []byte(wantState)) != 1 {
		return fail(StateMismatch)
	}
	if code == "" {
		return fail(MissingCode)
	}
	return code, nil
}

// returnedParams merges the query with fragment parameters; the query wins.
// Malformed pairs are skipped rather than failing the whole URL, so that a
// stray '%' in some extra parameter cannot hide the code.
func returnedParams(u *url.URL) url.Values {
	params, _ := url.ParseQuery(u.RawQuery)
	if frag := u.EscapedFragment(); strings.Contains(frag, "=") {
		fp, _ := url.ParseQuery(frag)
		for k, v := range fp {
			if !params.Has(k) {
				params[k] = v
			}
		}
	}
	return params
}

// sameRedirect compares scheme, host, port and path the way Entra matches
// redirect URIs: host case-insensitively, path case-sensitively with "" and
// "/" alike, and the port ignored for loopback hosts.
func sameRedirect(got *url.URL, redirectURI string) bool {
	want, err := url.Parse(redirectURI)
	if err != nil {
		return false
	}
	if got.Scheme != strings.ToLower(want.Scheme) || !strings.EqualFold(got.Hostname(), want.Hostname()) {
		return false
	}
	if !IsLoopbackHost(got.Hostname()) && portOf(got) != portOf(want) {
		return false
	}
	return pathOf(got) == pathOf(want)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func pathOf(u *url.URL) string {
	if u.Path == "" {
		return "/"
	}
	return u.Path
}
