// Package tokenscan helps tests check that no token leaks into a message:
// it finds the token values in a token endpoint's body (JSON or form).
package tokenscan

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Fields returns the access, refresh and ID token values of a JSON or form
// body (16 characters or more), and the error texts a message may quote
// legitimately, so that a test can tell a leaked token from an echo.
func Fields(body []byte) (tokens []string, quotable string) {
	var quoted []string
	add := func(k, v string) {
		switch k {
		case "access_token", "refresh_token", "id_token":
			if len(v) >= 16 {
				tokens = append(tokens, v)
			}
		case "error", "error_description":
			quoted = append(quoted, v)
		}
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for k, v := range m {
			if s, ok := v.(string); ok {
				add(k, s)
			}
		}
	}
	if q, err := url.ParseQuery(string(body)); err == nil {
		for k, vs := range q {
			for _, v := range vs {
				add(k, v)
			}
		}
	}
	return tokens, strings.Join(quoted, "\n")
}
