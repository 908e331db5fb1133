package entrasim

import (
	"fmt"
	"time"
)

// Conditional Access policies that end sessions or block a flow, worded as
// Entra words them (Microsoft's AADSTS error code reference, and the
// sign-in page people report).
const (
	blockedByPolicy   = 53003
	deviceBlockedPage = "You don't have access to this. Your sign-in was successful but does not meet the criteria to access this resource. For example, you might be signing in from a browser, app, location, or an authentication flow that is restricted by your admin."

	signInFrequencyCode = 70043
	// dotNetRoundTrip is how Entra writes "issued on" times in this
	// message: .NET's round-trip format, seven fractional digits.
	dotNetRoundTrip = "2006-01-02T15:04:05.0000000Z"
)

func errBlockedByPolicy() *aadError {
	return &aadError{status: 400, err: "invalid_grant", code: blockedByPolicy,
		msg: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."}
}

// RequireSignInFrequency turns on a Conditional Access sign-in frequency of
// every: a refresh more than every after the sign-in that began the
// session (rotations do not renew it) answers invalid_grant AADSTS70043,
// suberror token_expired, "… the maximum allowed lifetime for this request
// is N" with N in seconds. A new sign-in starts a new session. 0 turns the
// policy off.
func (s *Server) RequireSignInFrequency(every time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signInFrequency = every
}

// BlockDeviceCodeFlow turns on a Conditional Access policy whose
// "Authentication flows" condition blocks device code flow. The person
// still signs in at /devicelogin, then sees "You don't have access to
// this" (ApproveDevice returns a *PageError with code 53003); polling that
// device code answers invalid_grant AADSTS53003. Sessions begun with a
// device code stay tracked as such, so refreshing their tokens is refused
// the same way while the policy is on; other sign-ins are not affected.
func (s *Server) BlockDeviceCodeFlow(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blockDeviceFlow = on
}

// ExpireDeviceCodes makes every device code issued so far, and not yet
// redeemed, expire now, as if its 15 minutes had run out: polls answer
// expired_token, and the person entering the code is told it expired.
func (s *Server) ExpireDeviceCodes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.clock().Add(-time.Second)
	for _, d := range s.devices {
		if d.status != deviceRedeemed && d.expires.After(past) {
			d.expires = past
		}
	}
}

// sessionPolicyLocked applies the session policies to a refresh of g at
// now: a device code flow block to sessions begun with a device code, then
// the sign-in frequency.
func (s *Server) sessionPolicyLocked(g *refreshGrant, now time.Time) *aadError {
	if s.blockDeviceFlow && g.deviceFlow {
		return errBlockedByPolicy()
	}
	if s.signInFrequency > 0 && now.After(g.firstIssued.Add(s.signInFrequency)) {
		return &aadError{status: 400, err: "invalid_grant", code: signInFrequencyCode, suberror: "token_expired",
			msg: fmt.Sprintf("The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on %s and the maximum allowed lifetime for this request is %d.",
				g.firstIssued.UTC().Format(dotNetRoundTrip), int64(s.signInFrequency/time.Second))}
	}
	return nil
}
