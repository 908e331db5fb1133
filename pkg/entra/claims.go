package entra

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// DecodeClaims accepts a claims request (the authorize request's claims
// parameter) as JSON, or base64 of it as a resource's claims challenge
// carries it in WWW-Authenticate, or hex (EncodeClaims), and returns the JSON.
func DecodeClaims(s string) (string, error) {
	s = strings.TrimSpace(s)
	if isJSONObject([]byte(s)) {
		return s, nil
	}
	if b, err := hex.DecodeString(s); err == nil && isJSONObject(b) {
		return strings.TrimSpace(string(b)), nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && isJSONObject(b) {
			return strings.TrimSpace(string(b)), nil
		}
	}
	return "", errors.New("the claims are neither a JSON object nor base64 of one: pass the claims value of the WWW-Authenticate challenge as it came")
}

// EncodeClaims is claims for a command line in a message: hex, which is
// shell-safe and, unlike base64, not taken for a token by the redaction of
// printed errors (servertext.Redact).
func EncodeClaims(claims string) string { return hex.EncodeToString([]byte(claims)) }

func isJSONObject(b []byte) bool {
	var m map[string]any
	return json.Unmarshal(b, &m) == nil
}
