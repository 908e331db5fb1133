package entrasim

import (
	"encoding/json"
	"time"
)

// otherServer holds the knobs that make the double answer like an OpenID
// Connect server other than Entra, within what the specifications allow
// or what such servers are seen to do. All are off by default.
type otherServer struct {
	editIDToken   func(claims map[string]any)
	omitScope     bool
	deadRTErr     string
	deadRTMessage string
	bareRefresh   bool
	refreshLife   int // seconds announced in refresh_expires_in; 0 for none
	retireUsedRT  bool
}

// RetireUsedRefreshTokens makes a refresh that succeeds retire the refresh
// token it redeemed, as servers that rotate refresh tokens do (Dex; RFC
// 9700 section 4.14.2): the old one is then unknown, and only the new one
// works. Entra keeps the old one valid.
func (s *Server) RetireUsedRefreshTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other.retireUsedRT = on
}

// AnswerRefreshesBare makes refresh_token grants answer with an access
// token only: no new refresh token (the one used stays valid, as RFC 6749
// 6 allows servers that do not rotate) and no ID token (OpenID Connect
// Core 12.2 makes it optional on a refresh). Entra sends both.
func (s *Server) AnswerRefreshesBare(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other.bareRefresh = on
}

// AnnounceRefreshLifetime makes token responses that carry a refresh token
// say how long it lives, in refresh_expires_in (whole seconds), as Keycloak
// and other OpenID Connect servers do; 0 turns it off. Entra never sends
// it. The double only announces it: its own refresh token rules still
// apply.
func (s *Server) AnnounceRefreshLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other.refreshLife = int(d / time.Second)
}

// EditIDTokens passes the claims of every new ID token through edit
// before it is minted (nil turns it off): delete preferred_username and
// email, as a server that does not know them, or change iss, aud or exp.
func (s *Server) EditIDTokens(edit func(claims map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other.editIDToken = edit
}

// OmitScopeInTokenResponses leaves the scope field out of successful token
// responses, which RFC 6749 5.1 allows when the scopes granted are the ones
// requested. Entra always sends it.
func (s *Server) OmitScopeInTokenResponses(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other.omitScope = on
}

// AnswerDeadRefreshTokens makes the refresh_token grant refuse unknown,
// revoked and expired refresh tokens with this error value and description
// and no AADSTS code, as some servers do (Dex: invalid_request, "Refresh
// token is invalid or has already been claimed by another client.").
// An empty errValue restores Entra's answers (invalid_grant with a code).
func (s *Server) AnswerDeadRefreshTokens(errValue, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other.deadRTErr, s.other.deadRTMessage = errValue, description
}

// deadRefreshTokenLocked turns Entra's refusal of a dead refresh token into
// the other server's answer, when one is set.
func (s *Server) deadRefreshTokenLocked(e *aadError) *aadError {
	if e == nil || s.other.deadRTErr == "" {
		return e
	}
	switch e.code {
	case 70000, 50173, 700082, 700084:
		return &aadError{status: 400, err: s.other.deadRTErr, msg: s.other.deadRTMessage}
	}
	return e
}

// editedClaims applies the EditIDTokens edit to claims.
func (o otherServer) editedClaims(claims any) any {
	if o.editIDToken == nil {
		return claims
	}
	b, _ := json.Marshal(claims)
	var m map[string]any
	json.Unmarshal(b, &m)
	o.editIDToken(m)
	return m
}
