package entrasim

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// MFACode is the one-time code the MFA page accepts in interactive mode:
// the double's authenticator app always shows it.
const MFACode = "123456"

// sessionCookie is the name of Entra's sign-in session cookie; the double
// uses it for the same purpose.
const sessionCookie = "ESTSAUTH"

// SetInteractive switches how /authorize plays the person's part. Off (the
// default), the SignInAs user is signed in and consents without any page.
// On, /authorize shows pages a browser fills in, as Entra does:
//
//  1. a sign-in form: input#username (name "username", pre-filled from
//     login_hint) and input#password (name "password"), button#next. An
//     unknown user shows AADSTS50034, a wrong password (or a user without
//     one) AADSTS50126, in p#error on the same form;
//  2. when the user has MFA or RequireMFA is on, a code form: input#otp
//     (name "otp"), button#verify; the code is MFACode, another shows
//     AADSTS500121 in p#error;
//  3. when some requested permission is not yet consented for this user
//     and app (or prompt=consent), a consent page listing in
//     ul#permissions one li per permission not yet consented (attribute
//     data-scope: the scope as the token response spells it), with
//     button#accept and button#cancel. Cancel redirects back with
//     access_denied AADSTS65004. With nothing new to consent to, the page
//     is skipped, as Entra skips it;
//  4. the redirect (or form_post page) to the redirect URI, as without
//     pages.
//
// Each page carries a meta tag entrasim-step (credentials, mfa, consent)
// and posts form#step-form to /{tenant}/login. Once signed in (after MFA
// when it was asked for) the browser gets a session cookie: a later sign-in
// in the same browser skips the sign-in form, unless prompt=login or a
// login_hint names someone else; prompt=none needs that session
// (login_required AADSTS50058 without it). DenyConsent declines as soon as
// the person has signed in; SendToWrongPlace applies once consent is given.
// Errors Entra shows on its own pages (unknown app, unregistered redirect
// URI, ...) are the same in both modes. Authorize and FollowSignIn fill the
// pages in as the SignInAs user with their Password, MFACode and Accept.
func (s *Server) SetInteractive(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interactive = on
}

// step is the page an interactive sign-in shows next.
type step int

const (
	stepCredentials step = iota + 1
	stepMFA
	stepConsent
)

var stepNames = map[step]string{stepCredentials: "credentials", stepMFA: "mfa", stepConsent: "consent"}

// pendingSignIn is an interactive sign-in between /authorize and the
// redirect back, found again by the flow token its pages post.
type pendingSignIn struct {
	token    string
	req      *authRequest
	step     step
	user     *User // known after the sign-in form (or from the session)
	mfa      bool  // the MFA step was completed, now or in the session
	username string
	message  string  // error shown on the current page
	missing  []scope // permissions the consent page lists
}

// browserSession is what the session cookie stands for.
type browserSession struct {
	username string
	mfa      bool
}

// reply is what a sign-in page or /authorize answers: a page, or the
// outcome of the sign-in; perhaps with a session cookie.
type reply struct {
	out    authorizeOutcome
	page   *htmlPage
	cookie *http.Cookie
}

type htmlPage struct {
	title, meta, body string
}

func (s *Server) writeReply(w http.ResponseWriter, r *http.Request, rep reply) {
	if rep.cookie != nil {
		http.SetCookie(w, rep.cookie)
	}
	if rep.page != nil {
		writePage(w, http.StatusOK, rep.page.title, rep.page.meta, rep.page.body)
		return
	}
	s.writeOutcome(w, r, rep.out)
}

// sessionLocked returns the browser's session, or nil.
func (s *Server) sessionLocked(r *http.Request) *browserSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	if sess, ok := s.sessions[c.Value]; ok {
		return &sess
	}
	return nil
}

// startSignInLocked begins an interactive sign-in. Decision rules: a session
// is used unless prompt=login, a login_hint names someone else, or its user
// does not fit the tenant and app; without one, prompt=none fails with
// login_required (AADSTS50058) and anything else shows the sign-in form.
func (s *Server) startSignInLocked(req *authRequest, sess *browserSession) reply {
	p := &pendingSignIn{token: randomB64(32), req: req, step: stepCredentials, username: req.loginHint}
	if sess != nil && req.prompt != "login" && (req.loginHint == "" || strings.EqualFold(req.loginHint, sess.username)) {
		if u := s.users[sess.username]; u != nil && userFits(u, req.tenant, req.app) == nil {
			p.user, p.mfa, p.username = u, sess.mfa, u.Username
			return s.advanceLocked(p, false)
		}
	}
	if req.prompt == "none" {
		return reply{out: req.fail(&aadError{err: "login_required", code: 50058,
			msg: "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD."})}
	}
	s.signIns[p.token] = p
	return s.pageLocked(p)
}

// serveLogin is POST /{tenant}/login, where the sign-in pages post. The
// flow's own step decides how the fields are read, so a page submitted
// twice (the back button) cannot skip a step.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.ParseForm()
	s.mu.Lock()
	p := s.signIns[r.PostForm.Get("flowToken")]
	var rep reply
	if p == nil {
		rep.out.page = &aadError{err: "invalid_request", code: 9002313,
			msg: "Invalid request. Request is malformed or invalid. The sign-in was already finished or never started here: go back to the application and start again."}
	} else {
		rep = s.submitLocked(p, r.PostForm)
	}
	s.mu.Unlock()
	s.writeReply(w, r, rep)
}

func (s *Server) submitLocked(p *pendingSignIn, form url.Values) reply {
	get := form.Get
	p.message = ""
	switch p.step {
	case stepCredentials:
		p.username = strings.TrimSpace(get("username"))
		u := s.users[strings.ToLower(p.username)]
		switch {
		case p.username == "":
			p.message = "AADSTS900144: Enter a valid email address, phone number, or Skype name."
		case u == nil:
			p.message = fmt.Sprintf("AADSTS50034: The user account %s does not exist in the '%s' directory. To sign into this application, the account must be added to the directory.", p.username, p.req.tenant.name)
		case u.Password == "" || get("password") != u.Password:
			p.message = "AADSTS50126: Error validating credentials due to invalid username or password."
		}
		if p.message != "" {
			return s.pageLocked(p)
		}
		if e := userFits(u, p.req.tenant, p.req.app); e != nil {
			return s.finishLocked(p, p.req.fail(e))
		}
		p.user, p.mfa = u, false
		return s.advanceLocked(p, true)
	case stepMFA:
		if strings.TrimSpace(get("otp")) != MFACode {
			p.message = "AADSTS500121: Authentication failed during strong authentication request. The code you entered is not correct."
			return s.pageLocked(p)
		}
		p.mfa = true
		return s.advanceLocked(p, true)
	default: // stepConsent
		switch get("action") {
		case "accept":
			return s.finishLocked(p, s.consentGivenLocked(p.req, p.user, p.mfa))
		case "cancel":
			return s.finishLocked(p, p.req.fail(errDeclined()))
		}
		return s.pageLocked(p)
	}
}

// advanceLocked moves a sign-in whose user is known to its next page, or
// ends it. Decision rules, in order: MFA when the user or the policy needs
// it and it was not done; then DenyConsent; then the consent page when
// permissions are missing (all of them with prompt=consent); then the code.
// With prompt=none a page that would be shown is an error instead
// (interaction_required AADSTS50076, consent_required AADSTS65001).
// authenticated says the person has just proven who they are, which
// (re)starts the browser session.
func (s *Server) advanceLocked(p *pendingSignIn, authenticated bool) reply {
	req := p.req
	if (p.user.MFA || s.requireMFA) && !p.mfa {
		if req.prompt == "none" {
			e := errMFARequired(resourceOf(req.scopes))
			e.err = "interaction_required"
			return s.finishLocked(p, req.fail(e))
		}
		p.step = stepMFA
		return s.pageLocked(p)
	}
	var cookie *http.Cookie
	if authenticated {
		id := randomB64(32)
		s.sessions[id] = browserSession{username: strings.ToLower(p.user.Username), mfa: p.mfa}
		cookie = &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
	}
	withCookie := func(rep reply) reply { rep.cookie = cookie; return rep }
	if s.denyConsent {
		return withCookie(s.finishLocked(p, req.fail(errDeclined())))
	}
	p.missing = s.unconsentedLocked(p.user, req.app, req.scopes)
	if req.prompt == "consent" {
		p.missing = req.scopes
	}
	if len(p.missing) == 0 {
		return withCookie(s.finishLocked(p, s.consentGivenLocked(req, p.user, p.mfa)))
	}
	if req.prompt == "none" {
		return withCookie(s.finishLocked(p, req.fail(consentRequiredRedirect(req.app))))
	}
	p.step = stepConsent
	return withCookie(s.pageLocked(p))
}

// finishLocked ends a pending sign-in: its pages can no longer be posted.
func (s *Server) finishLocked(p *pendingSignIn, out authorizeOutcome) reply {
	delete(s.signIns, p.token)
	return reply{out: out}
}

// pageLocked renders the page of p's current step. It only builds text,
// so that nothing is written to the network under the lock.
func (s *Server) pageLocked(p *pendingSignIn) reply {
	s.signIns[p.token] = p
	app := html.EscapeString(p.req.app.Name)
	var b strings.Builder
	fmt.Fprintf(&b, `<form method="POST" id="step-form" action="/%s/login">
<input type="hidden" name="flowToken" value="%s">
`, html.EscapeString(url.PathEscape(p.req.seg)), p.token)
	errorLine := ""
	if p.message != "" {
		errorLine = fmt.Sprintf(`<p id="error" role="alert" class="error">%s</p>`+"\n", html.EscapeString(p.message))
	}
	title := "Sign in to your account"
	switch p.step {
	case stepCredentials:
		fmt.Fprintf(&b, `<h1>Sign in</h1>
<p>to continue to <b id="app-name">%s</b></p>
%s<label for="username">Email, phone, or Skype</label>
<input type="email" id="username" name="username" value="%s" autocomplete="username" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<button type="submit" id="next">Sign in</button>
`, app, errorLine, html.EscapeString(p.username))
	case stepMFA:
		title = "Verify your identity"
		fmt.Fprintf(&b, `<h1>Enter code</h1>
<p>Enter the code displayed in the authenticator app on your mobile device for <b>%s</b>.</p>
%s<label for="otp">Code</label>
<input type="text" id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" autofocus>
<button type="submit" id="verify">Verify</button>
`, html.EscapeString(p.user.Username), errorLine)
	case stepConsent:
		title = "Permissions requested"
		fmt.Fprintf(&b, `<h1>Permissions requested</h1>
<p><b id="app-name">%s</b> <span class="note">unverified</span></p>
<p>%s</p>
%s<p>This app would like to:</p>
<ul id="permissions">
`, app, html.EscapeString(p.user.Username), errorLine)
		for _, sc := range p.missing {
			fmt.Fprintf(&b, `<li data-scope="%s">%s <code>%s</code></li>`+"\n",
				html.EscapeString(sc.display()), html.EscapeString(describeScope(sc)), html.EscapeString(sc.display()))
		}
		b.WriteString(`</ul>
<p class="note">Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement. You can change these permissions at https://myapps.microsoft.com.</p>
<button type="submit" name="action" value="cancel" id="cancel" class="secondary">Cancel</button>
<button type="submit" name="action" value="accept" id="accept">Accept</button>
`)
	}
	b.WriteString("</form>")
	return reply{page: &htmlPage{
		title: title,
		meta:  fmt.Sprintf(`<meta name="entrasim-step" content="%s">`, stepNames[p.step]),
		body:  b.String(),
	}}
}

// unconsentedLocked lists the requested scopes u has not consented to for
// app, in request order. OIDC scopes count once consented; ".default" is
// covered by any consent for its resource.
func (s *Server) unconsentedLocked(u *User, app *App, scopes []scope) []scope {
	have := s.consent[u.OID+"|"+app.ClientID]
	var missing []scope
	for _, sc := range scopes {
		found := false
		for _, h := range have {
			if h.key() == sc.key() || (sc.name == ".default" && strings.EqualFold(h.resource, sc.resource)) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, sc)
		}
	}
	return missing
}

// scopeDescriptions are the consent page's words for well-known
// permissions, by lower-case scope as the token response spells it.
var scopeDescriptions = map[string]string{
	"openid":                     "Sign you in",
	"profile":                    "View your basic profile",
	"email":                      "View your email address",
	"offline_access":             "Maintain access to data you have given it access to",
	"user.read":                  "Sign you in and read your profile",
	"calendars.read":             "Read your calendars",
	"calendars.readwrite":        "Have full access to your calendars",
	"calendars.read.shared":      "Read calendars you can access, including shared ones",
	"calendars.readwrite.shared": "Read and write calendars you can access, including shared ones",
	"mail.read":                  "Read your mail",
	"mail.readwrite":             "Read and write access to your mail",
	"mail.send":                  "Send mail as you",
}

func describeScope(sc scope) string {
	if d, ok := scopeDescriptions[strings.ToLower(sc.display())]; ok {
		return d
	}
	return "Access " + sc.display()
}
