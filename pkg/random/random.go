// Package random makes unguessable strings from crypto/rand: OAuth state,
// item names that no one else can pick, test values shaped like tokens. It
// is the one place that turns random bytes into text, so every caller gets
// the same encoding and none of them has to handle an error: since Go 1.24
// crypto/rand.Read never returns one (the program crashes instead, as it
// must when the system cannot give randomness).
package random

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// Bytes returns n random bytes.
func Bytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// Hex returns n random bytes as 2n lower-case hex digits.
func Hex(n int) string { return hex.EncodeToString(Bytes(n)) }

// URLSafe returns n random bytes as unpadded base64url (RFC 4648 §5), the
// encoding of OAuth state and PKCE values: 32 bytes give 43 characters.
func URLSafe(n int) string { return base64.RawURLEncoding.EncodeToString(Bytes(n)) }

// Text returns exactly n random base64url characters (6 bits each).
func Text(n int) string { return URLSafe(n)[:n] }
