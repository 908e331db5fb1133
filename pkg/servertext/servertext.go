// Package servertext makes text that a server supplied (error descriptions,
// ID token claims, device code instructions) safe to show: no control
// character, escape sequence or bidi override reaches the terminal, and
// nothing that looks like a token, a code or a secret is repeated.
package servertext

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// Clean neutralises what could act on a terminal or disguise the text: C0
// and C1 control characters (ESC and line breaks among them) and DEL become
// spaces, bidi controls such as U+202E are dropped, and bytes that are not
// UTF-8 (a raw 0x9B is an 8-bit CSI) become U+FFFD.
func Clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}

// Lines is Clean for a message of several lines: line breaks stay,
// everything else is cleaned.
func Lines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = Clean(l)
	}
	return strings.Join(lines, "\n")
}

// Redacted stands in for what Redact removes.
const Redacted = "[redacted]"

var (
	// secretParam is a form or JSON field that carries a secret, and its
	// value: refresh_token=..., "client_secret":"...". Prose such as "the
	// code: AADSTS..." is not a field.
	secretParam = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(refresh_token|access_token|id_token|client_secret|client_assertion|code_verifier|device_code|code|assertion|password)(=|["']\s*:\s*["']?)([^\s"'&,;]+)`)
	})
	// tokenLike is a long run of the characters tokens, codes and secrets
	// are made of (base64url, '.', '~', '+', '='); '/' is left out so that
	// URLs and paths are not taken for tokens.
	tokenLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9._~+=%-]{32,}`) })
	guid      = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
)

// Redact replaces what looks like a token, a code or a secret: the value
// of a field named after one (unless it is a number, like an error code),
// and any run of 32 or more token characters that mixes upper case, lower
// case and digits and is not a GUID. Host names, URLs, scopes, GUIDs and
// AADSTS numbers are left as they are.
func Redact(s string) string {
	s = secretParam().ReplaceAllStringFunc(s, func(m string) string {
		sub := secretParam().FindStringSubmatch(m)
		if strings.Trim(sub[3], "0123456789") == "" {
			return m
		}
		return sub[1] + sub[2] + Redacted
	})
	return tokenLike().ReplaceAllStringFunc(s, func(m string) string {
		if guid().MatchString(m) || !mixed(m) {
			return m
		}
		return Redacted
	})
}

// mixed reports whether s has upper case letters, lower case letters and
// digits, as random strings of that length all but surely do.
func mixed(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		upper = upper || 'A' <= r && r <= 'Z'
		lower = lower || 'a' <= r && r <= 'z'
		digit = digit || '0' <= r && r <= '9'
	}
	return upper && lower && digit
}

// Safe is Clean and Redact: for any server text shown in a message.
func Safe(s string) string { return Redact(Clean(s)) }
