package entra

import (
	"slices"
	"sort"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// HintContext carries the values a hint names.
type HintContext struct {
	RedirectURI string
	Tenant      string
	ClientID    string
	Method      string // "paste", "alt", "device"
	// LinkCommand and ReauthCommand, when set, replace `ms365auth link`
	// and `ms365auth reauth` in a fix, so that it names the command that
	// fits the profile: with its --profile, and for a profile that was
	// never linked the first link, since reauth has nothing to renew.
	LinkCommand, ReauthCommand string
	// AdminConsentURL, when set, is the link an admin of the tenant opens
	// to grant the app's permissions for everyone (AdminConsentURL): the
	// fixes of the codes that need an admin's approval hand it on.
	AdminConsentURL string
}

// CodeInfo is one row of the AADSTS table; the same table feeds the docs.
type CodeInfo struct {
	Code    int
	Error   string // usual OAuth error value, "" when unknown
	Meaning string
	Fix     string // may contain {redirect_uri}, {tenant}, {client_id}
}

const (
	// deviceFix is for device policies: on Linux only Microsoft's Intune
	// broker (Ubuntu Desktop, enrolled) proves a device, and no command-line
	// tool can use it, so signing in again cannot help.
	deviceFix  = "Signing in again will not help: the policy wants a managed or compliant device, which this tool cannot prove. Ask your admin to exclude {client_id} from the policy, or for a policy this sign-in can meet (for example multi-factor authentication)."
	secretHow  = "MS365AUTH_CLIENT_SECRET or --client-secret-file"
	reauthHint = "run `ms365auth reauth` and sign in again"
)

// Codes is the AADSTS table, ordered by code. Meanings follow Microsoft's
// error reference; fixes name the exact setting, flag or command.
var Codes = []CodeInfo{
	{50005, "access_denied", "A Conditional Access policy allows sign-in only from supported platforms, and this one (Linux, or a command-line client) is not among them.",
		deviceFix},
	{50011, "invalid_request", "The redirect URI in the request is not registered for the app.",
		"Register exactly {redirect_uri} as a redirect URI under 'Mobile and desktop applications' in the app registration (Authentication page), or pass --redirect-uri with one that is registered."},
	{50020, "access_denied", "The account does not belong to the tenant.",
		"Sign in with an account from {tenant}, ask its admin for a guest invitation, or pass --tenant common (or your home tenant)."},
	{50058, "login_required", "There is no signed-in session for a silent sign-in.",
		"Sign in interactively: run `ms365auth reauth`."},
	{50076, "invalid_grant", "Multi-factor authentication is now required.",
		"Run `ms365auth reauth` and complete the MFA prompt in the browser."},
	{50079, "interaction_required", "The account must register for multi-factor authentication.",
		"Register your security info at https://aka.ms/mysecurityinfo, then run `ms365auth reauth`."},
	{50097, "interaction_required", "The sign-in needs device authentication: a device registered with the organisation, proven by a broker.",
		deviceFix},
	{50126, "invalid_grant", "Wrong username or password.",
		"Check the username and password and sign in again; reset the password if it has changed."},
	{50148, "invalid_grant", "The PKCE code verifier does not match the code challenge.",
		"The code belongs to a different sign-in attempt: run `ms365auth link` again and paste the URL from that run only."},
	{50158, "interaction_required", "An external security challenge (third-party MFA) was not satisfied.",
		reauthHint + ", completing every prompt."},
	{50173, "invalid_grant", "The grant was revoked (password change or an admin revoked sessions).",
		reauthHint + "."},
	{50194, "invalid_request", "The app is single-tenant and cannot use the common endpoint.",
		"The app is single-tenant: pass --tenant <your tenant ID or domain> instead of {tenant}."},
	{53000, "interaction_required", "A Conditional Access policy requires a compliant or managed device.",
		deviceFix},
	{53003, "access_denied", "A Conditional Access policy blocked the sign-in.",
		"Ask your admin to allow this sign-in (give them the Trace ID from the sign-in page); retrying will not help."},
	{53005, "unauthorized_client", "The resource accepts only apps that enforce Intune app protection policies.",
		"Your organisation lets only Intune-managed apps reach this resource, and no sign-in changes that: ask your admin to exclude {client_id} from the app protection policy."},
	{54005, "invalid_grant", "The authorization code was already redeemed.",
		"Each code works once: run `ms365auth link` again and paste the new URL."},
	{65001, "invalid_grant", "The user or an admin has not consented to the requested permissions.",
		"Run `ms365auth reauth` to consent to the permissions; if your organisation requires admin approval, ask an admin to grant consent for {client_id}."},
	{65004, "access_denied", "The user declined to consent to the app.",
		"Run `ms365auth link` again and accept the permissions, or choose fewer features so fewer permissions are asked for."},
	{70000, "invalid_grant", "The authorization code or refresh token is invalid or malformed.",
		reauthHint + "."},
	{70008, "invalid_grant", "The authorization code or refresh token has expired.",
		"Run `ms365auth reauth`; paste the returned URL within 10 minutes of signing in."},
	{70011, "invalid_scope", "A requested scope is invalid.",
		"Check the scopes: Graph names such as Calendars.Read, other resources as full URIs such as https://outlook.office.com/IMAP.AccessAsUser.All, and never .default together with named scopes."},
	{70016, "authorization_pending", "The device code sign-in is not finished yet.",
		"Finish signing in on the device login page; ms365auth keeps waiting until the code expires."},
	{70019, "expired_token", "The device code expired before sign-in finished.",
		"Run `ms365auth link --device` again and finish signing in within 15 minutes."},
	{70043, "invalid_grant", "A Conditional Access sign-in frequency policy ended the session.",
		"Your organisation requires signing in again periodically: run `ms365auth reauth`."},
	{90002, "invalid_request", "The tenant was not found (wrong tenant or wrong cloud).",
		"{tenant} is not a known tenant: check --tenant (a tenant ID or verified domain) and that the authority host matches your cloud."},
	{90014, "invalid_request", "A required field is missing from the request.",
		"Run `ms365auth link` again with an unaltered sign-in link and returned URL; if it repeats, it is a bug in ms365auth."},
	{90094, "invalid_grant", "The requested permissions need an administrator's approval.",
		"Ask an admin to grant consent for {client_id} in {tenant} (Enterprise applications → Permissions), or choose fewer features."},
	{500112, "invalid_request", "The redirect URI used to redeem the code differs from the one used to sign in.",
		"Run `ms365auth link` again and keep --redirect-uri unchanged between sign-in and code redemption."},
	{500119, "invalid_request", "The out-of-band redirect URI (urn:ietf:wg:oauth:2.0:oob) is not accepted.",
		"Use " + NativeClientRedirectURI + " as the redirect URI, registered under 'Mobile and desktop applications'."},
	{501481, "invalid_grant", "The PKCE code verifier does not match the code challenge.",
		"The code belongs to a different sign-in attempt: run `ms365auth link` again and paste the URL from that run only."},
	{530003, "interaction_required", "A Conditional Access policy requires a managed device to reach this resource.",
		deviceFix},
	{530033, "interaction_required", "A Conditional Access policy requires a compliant or managed device for this app.",
		deviceFix},
	{700005, "invalid_grant", "The authorization code was issued for a different tenant.",
		"Use the same --tenant for sign-in and code redemption, then run `ms365auth link` again."},
	{700016, "unauthorized_client", "No application with this client ID exists in the tenant.",
		"{client_id} was not found in {tenant}: compare the client ID with 'Application (client) ID' on the app's Overview page, check --tenant, and for a single-tenant app pass --tenant <its tenant ID>."},
	{700022, "invalid_scope", "The scopes name more than one resource for one token.",
		"Ask for scopes of one resource per token: Graph scopes and Outlook protocol scopes (imap, pop, smtp) need separate tokens."},
	{700025, "invalid_client", "A public client sent a client secret.",
		"{redirect_uri} is a public-client (Mobile and desktop) redirect: remove the client secret (unset MS365AUTH_CLIENT_SECRET / drop --client-secret-file), then run `ms365auth link` again."},
	{700054, "invalid_request", "The response type id_token is not enabled for the app.",
		"Use the sign-in link ms365auth prints, unmodified: it asks only for response_type=code."},
	{700082, "invalid_grant", "The refresh token expired after 90 days of inactivity.",
		"The refresh token expired after 90 days of inactivity: run `ms365auth reauth`; use it at least every few weeks (for example from cron) to keep it alive."},
	{700084, "invalid_grant", "The refresh token of a single-page application reached its fixed 24-hour lifetime.",
		"{redirect_uri} is registered as 'Single-page application', whose refresh tokens last 24 hours: move it to 'Mobile and desktop applications', then run `ms365auth reauth`."},
	{7000215, "invalid_client", "The client secret is invalid.",
		"The client secret is wrong — use the secret's Value, not its Secret ID (Certificates & secrets page), and supply it with " + secretHow + "."},
	{7000218, "invalid_client", "The request needs a client secret or assertion.",
		"A secret is required: the redirect URI is registered under 'Web' — move {redirect_uri} to 'Mobile and desktop applications', or supply the secret with " + secretHow + "; for --device enable 'Allow public client flows'."},
	{7000222, "invalid_client", "The client secret has expired.",
		"Create a new client secret under Certificates & secrets and supply its Value with " + secretHow + "."},
	{9002313, "invalid_grant", "The request is malformed: the code or refresh token sent is damaged or was not issued by Entra.",
		"Sign in again: run `ms365auth reauth`, or `ms365auth link` pasting the returned URL as it is, unaltered."},
	{9002327, "invalid_request", "The redirect URI is registered as a single-page application, which needs a browser Origin header.",
		"{redirect_uri} is registered as Single-page application: move it to Mobile and desktop applications in the app registration (Authentication page)."},
	{9002332, "invalid_request", "The app accepts only work or school accounts, so it cannot use the consumers endpoint.",
		"Pass --tenant organizations (or your tenant), or change the app's 'Supported account types' to include personal Microsoft accounts."},
}

// methodFixes override a Fix for one sign-in method, where the general text
// would point at the wrong setting. Device code uses no redirect URI.
var methodFixes = map[string]map[int]string{
	"device": {
		7000218: "Device code sign-in needs 'Allow public client flows' set to Yes (app registration → Authentication → Advanced settings), or supply the client secret with " + secretHow + ".",
		53003:   "Conditional Access blocks this sign-in; organisations often block device code sign-in on purpose (an 'Authentication flows' policy): sign in with the link instead, `ms365auth link` without --device. If that is blocked too, ask your admin, giving them the Trace ID from the sign-in page.",
	},
}

// LookupCode returns the table row for code.
func LookupCode(code int) (CodeInfo, bool) {
	i := sort.Search(len(Codes), func(i int) bool { return Codes[i].Code >= code })
	if i < len(Codes) && Codes[i].Code == code {
		return Codes[i], true
	}
	return CodeInfo{}, false
}

// Hint returns the fix for code with the context filled in, "" if unknown.
// Empty context values are replaced by words that still read well ("the
// redirect URI", "the current tenant", "the app"). A method-specific fix wins over
// the table's general one.
func Hint(code int, c HintContext) string {
	fix := methodFixes[c.Method][code]
	if fix == "" {
		info, ok := LookupCode(code)
		if !ok {
			return ""
		}
		fix = info.Fix
	}
	return fill(fix, c) + adminConsentLine(code, c)
}

// needAdminApproval are the codes an admin's consent for the tenant
// settles: "Need admin approval" (90094), and no consent where users may
// not give it (65001).
var needAdminApproval = []int{65001, 90094}

// adminConsentLine hands on the admin consent link for a code that an
// admin's approval settles; "" without one.
func adminConsentLine(code int, c HintContext) string {
	if c.AdminConsentURL == "" || !slices.Contains(needAdminApproval, code) {
		return ""
	}
	return " An admin can grant it for everyone in the organisation by opening: " + c.AdminConsentURL
}

// ErrorFix is the fix for e: by its AADSTS code, except that an Intune app
// protection suberror means the same whatever code comes with it.
func ErrorFix(e *Error, c HintContext) string {
	if e.Suberror == SubProtectionPolicy {
		return Hint(intuneCode, c)
	}
	return Hint(e.Code, c)
}

// intuneCode is "the app must enforce Intune protection policies".
const intuneCode = 53005

// signInNotEnough are codes that need a person whose fix asks more than
// signing in again: security info, an admin, the app registration, or a
// device this tool cannot prove (devicePolicy).
var signInNotEnough = append([]int{50079, 53003, 65001, 90094, 700084}, devicePolicy...)

// devicePolicy are the Conditional Access answers that want a managed,
// compliant or registered device, or another platform: no sign-in from
// here meets them, whatever suberror comes with them (50097 comes with
// additional_action, which otherwise means "do something, then sign in").
var devicePolicy = []int{50005, 50097, 53000, 530003, 530033}

// SignInFix is what a person must do, beyond signing in again, about an
// error that needs one (NeedsInteraction); "" when signing in is all. The
// suberrors follow MSAL's reading of them.
func SignInFix(e *Error, c HintContext) string {
	if slices.Contains(signInNotEnough, e.Code) {
		return Hint(e.Code, c) + forAdmin(e)
	}
	switch e.Suberror {
	case subAdditionalAction:
		return fill("Microsoft first needs something done outside the sign-in (such as security info at https://aka.ms/mysecurityinfo, or a compliant device): do it, then run `ms365auth reauth`.", c)
	case subMessageOnly:
		return "A policy blocks this sign-in and signing in again will not lift it: the sign-in page says why; ask your admin, giving them its Trace ID." + forAdmin(e)
	case subPasswordExpired:
		return fill("The password has expired: run `ms365auth reauth` and change it when the sign-in page asks.", c)
	}
	return ""
}

// forAdmin names the answer for an admin looking it up in the sign-in
// logs, when the error needs an admin (a policy) and carries the IDs.
func forAdmin(e *Error) string {
	if e.TraceID == "" || (e.Code != 53003 && e.Suberror != subMessageOnly && !slices.Contains(devicePolicy, e.Code)) {
		return ""
	}
	s := " For the admin: Trace ID " + e.TraceID
	if e.CorrelationID != "" {
		s += ", Correlation ID " + e.CorrelationID
	}
	if e.Timestamp != "" {
		s += ", " + e.Timestamp
	}
	return s + "."
}

// fill puts the context's values and commands into a fix.
func fill(fix string, c HintContext) string {
	or := func(v, dflt string) string {
		if v = strings.TrimSpace(servertext.Clean(v)); v == "" {
			return dflt
		}
		return v
	}
	return strings.NewReplacer(
		"`ms365auth link`", "`"+or(c.LinkCommand, "ms365auth link")+"`",
		"`ms365auth reauth`", "`"+or(c.ReauthCommand, "ms365auth reauth")+"`",
		"{redirect_uri}", or(c.RedirectURI, "the redirect URI"),
		"{tenant}", or(c.Tenant, "the current tenant"),
		"{client_id}", or(c.ClientID, "the app"),
	).Replace(fix)
}
