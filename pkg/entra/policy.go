package entra

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Conditional Access answers that set or end a session, as Entra words
// them (Microsoft's "Microsoft Entra authentication and authorization error
// codes" reference):
//
//	AADSTS70043: The refresh token has expired or is invalid due to sign-in
//	frequency checks by conditional access. The token was issued on
//	{issueDate} and the maximum allowed lifetime for this request is {time}.
//
//	AADSTS53003: Access has been blocked by Conditional Access policies. The
//	access policy does not allow token issuance.
//
// {time} is whole seconds in every answer seen in the field (300, 32400,
// 36000, 43200, 86400, 1209600); Entra writes other lifetimes as .NET
// TimeSpans ("90.00:00:00" in AADSTS700082), so that form is read too.

// SignInFrequencyCode is the AADSTS number of a refresh refused because a
// Conditional Access sign-in frequency ended the session.
const SignInFrequencyCode = 70043

// BlockedByConditionalAccessCode is the AADSTS number of a sign-in that a
// Conditional Access policy blocks outright. A policy on the "Authentication
// flows" condition that blocks device code flow answers with it: the person
// sees "You don't have access to this" with error code 53003 on the sign-in
// page, and polling the device code gets no tokens.
const BlockedByConditionalAccessCode = 53003

// maxLifetimeRE finds the lifetime in "the maximum allowed lifetime for this
// request is N". The value runs to the next blank, without a final period.
var maxLifetimeRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)maximum\s+allowed\s+lifetime\s+for\s+this\s+request\s+is\s+([0-9][0-9.:]*)`)
})

// longestSession bounds what is believed: no sign-in frequency is longer
// than a year (the portal offers at most 365 days), so a larger number is a
// misreading, not a lifetime.
const longestSession = 366 * 24 * time.Hour

// MaxAllowedLifetime reads N from "the maximum allowed lifetime for this
// request is N" in an error description: N in seconds, or a .NET TimeSpan
// ([d.]hh:mm:ss[.fffffff]). ok is false when the phrase is missing, or N is
// not a positive lifetime of at most a year.
func MaxAllowedLifetime(description string) (d time.Duration, ok bool) {
	m := maxLifetimeRE().FindStringSubmatch(description)
	if m == nil {
		return 0, false
	}
	raw := strings.TrimRight(m[1], ".")
	if strings.Contains(raw, ":") {
		d, ok = parseTimeSpan(raw)
	} else {
		var secs int64
		secs, ok = parseWhole(raw)
		if ok && secs <= int64(longestSession/time.Second) {
			d = time.Duration(secs) * time.Second
		}
	}
	if !ok || d <= 0 || d > longestSession {
		return 0, false
	}
	return d, true
}

// parseWhole reads a short run of decimal digits.
func parseWhole(s string) (int64, bool) {
	if s == "" || len(s) > 12 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseTimeSpan reads .NET's TimeSpan "c" format: [d.]hh:mm:ss[.fffffff].
func parseTimeSpan(s string) (time.Duration, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	var days int64
	hours := parts[0]
	if d, h, found := strings.Cut(parts[0], "."); found {
		var ok bool
		if days, ok = parseWhole(d); !ok || days > 366 {
			return 0, false
		}
		hours = h
	}
	secs, frac, _ := strings.Cut(parts[2], ".")
	h, ok1 := parseWhole(hours)
	m, ok2 := parseWhole(parts[1])
	sec, ok3 := parseWhole(secs)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 || len(hours) != 2 || len(parts[1]) != 2 || len(secs) != 2 {
		return 0, false
	}
	if frac != "" {
		if _, ok := parseWhole(frac); !ok || len(frac) > 7 {
			return 0, false
		}
	}
	total := (((days*24+h)*60+m)*60 + sec)
	return time.Duration(total) * time.Second, true
}

// SignInFrequency reports the session lifetime a Conditional Access
// sign-in frequency sets, from a refresh Entra refused because of it
// (AADSTS70043). ok is false for any other error, or when the description
// does not say how long.
func SignInFrequency(e *Error) (time.Duration, bool) {
	if e == nil || e.Code != SignInFrequencyCode {
		return 0, false
	}
	return MaxAllowedLifetime(e.Description)
}

// DeviceCodeBlocked reports whether e, the answer to a device code sign-in,
// says Conditional Access blocks it (AADSTS53003). The answer does not name
// the policy: an "Authentication flows" policy blocking device code flow is
// the usual cause, and Microsoft recommends it, but a block by location or
// risk reads the same. Either way the sign-in link, finished in a browser,
// is the way left to try.
func DeviceCodeBlocked(e *Error) bool {
	return e != nil && e.Code == BlockedByConditionalAccessCode
}
