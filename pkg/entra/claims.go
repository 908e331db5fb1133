package entra

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxClaims is the largest claims request accepted, in bytes of JSON.
// Entra's claims challenges (Conditional Access authentication context,
// continuous access evaluation) are a few hundred bytes. The claims travel
// percent-encoded in the authorize URL a browser opens, where each brace,
// quote and colon takes three characters, and browsers and web servers
// commonly refuse URLs longer than 8 to 16 KB: 8 KiB of JSON keeps the
// URL within that, and anything larger is no claims challenge a sign-in
// could carry.
const MaxClaims = 8 << 10

// DecodeClaims accepts a claims request (the authorize request's claims
// parameter) as JSON, or base64 of it as a resource's claims challenge
// carries it in WWW-Authenticate, or hex (EncodeClaims), and returns the
// JSON: a JSON object (not null), at most MaxClaims bytes.
func DecodeClaims(s string) (string, error) {
	s = strings.TrimSpace(s)
	candidates := [][]byte{[]byte(s)}
	if b, err := hex.DecodeString(s); err == nil {
		candidates = append(candidates, b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			candidates = append(candidates, b)
		}
	}
	for _, c := range candidates {
		if json.Valid(c) {
			claims := strings.TrimSpace(string(c))
			return claims, CheckClaims(claims)
		}
	}
	return "", errors.New("the claims are neither a JSON object nor base64 of one: pass the claims value of the WWW-Authenticate challenge as it came")
}

// CheckClaims says whether claims (JSON) is a claims request a sign-in can
// carry: a JSON object, not null, of at most MaxClaims bytes.
func CheckClaims(claims string) error {
	if len(claims) > MaxClaims {
		return fmt.Errorf("the claims are %d bytes, more than the %d a sign-in can carry in its authorize URL: a claims challenge from Entra is a few hundred bytes, so check where these came from", len(claims), MaxClaims)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(claims), &m); err != nil || m == nil {
		return errors.New(`the claims must be a JSON object such as {"access_token":{...}}, not null, an array or a single value: pass the claims value of the WWW-Authenticate challenge as it came`)
	}
	return nil
}

// serverClaims is a claims challenge from Entra's answer, or "" when it is
// none a sign-in could carry (see CheckClaims): the sign-in then goes
// without it, and Entra asks again if it must.
func serverClaims(claims string) string {
	if claims == "" || CheckClaims(claims) != nil {
		return ""
	}
	return claims
}

// EncodeClaims is claims for a command line in a message: hex, which is
// shell-safe and, unlike base64, not taken for a token by the redaction of
// printed errors (servertext.Redact).
func EncodeClaims(claims string) string { return hex.EncodeToString([]byte(claims)) }
