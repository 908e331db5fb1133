package entra

import (
	"strings"
	"testing"
	"time"
)

func TestMaxAllowedLifetime(t *testing.T) {
	const head = "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on 2022-01-15T22:57:51.2550000Z and the maximum allowed lifetime for this request is "
	for _, tt := range []struct {
		name string
		desc string
		want time.Duration // 0: not ok
	}{
		{"ten hours, as Entra writes it", head + "36000.", 10 * time.Hour},
		{"no final period", head + "86400", 24 * time.Hour},
		{"every time (5 minutes)", head + "300.", 5 * time.Minute},
		{"fourteen days", head + "1209600.", 14 * 24 * time.Hour},
		{"with the trace lines after it", head + "43200.\r\nTrace ID: 05c52010-d810-4d78-91ca-c1318ad4ca00", 12 * time.Hour},
		{"TimeSpan with days", head + "1.00:00:00.", 24 * time.Hour},
		{"TimeSpan with fraction", head + "09:30:00.0000000", 9*time.Hour + 30*time.Minute},
		{"other capitals and spacing", "the Maximum  Allowed lifetime for this request is 600", 10 * time.Minute},
		{"zero", head + "0.", 0},
		{"negative", head + "-36000.", 0},
		{"not a number", head + "forever.", 0},
		{"more than a year", head + "99999999.", 0},
		{"overflowing", head + "99999999999999999999999.", 0},
		{"a version, not a number", head + "1.2.3", 0},
		{"TimeSpan out of range", head + "00:75:00", 0},
		{"TimeSpan, too many parts", head + "1:00:00:00", 0},
		{"TimeSpan of too many days", head + "400.00:00:00", 0},
		{"phrase missing", "AADSTS50173: The provided grant has expired due to it being revoked.", 0},
		{"empty", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MaxAllowedLifetime(tt.desc)
			if ok != (tt.want != 0) || got != tt.want {
				t.Errorf("MaxAllowedLifetime = %v, %t; want %v", got, ok, tt.want)
			}
		})
	}
}

func TestSignInFrequencyOnlyFrom70043(t *testing.T) {
	desc := "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on 2022-01-15T22:57:51.2550000Z and the maximum allowed lifetime for this request is 36000."
	if d, ok := SignInFrequency(&Error{Err: "invalid_grant", Code: 70043, Description: desc, Suberror: "token_expired"}); !ok || d != 10*time.Hour {
		t.Errorf("70043: %v, %t", d, ok)
	}
	if _, ok := SignInFrequency(&Error{Err: "invalid_grant", Code: 50173, Description: desc}); ok {
		t.Error("a sign-in frequency read from another code")
	}
	if _, ok := SignInFrequency(nil); ok {
		t.Error("nil error read as a sign-in frequency")
	}
}

// TestSignInFrequencyFromTheWire reads Entra's whole JSON answer the way a
// refresh meets it, trace lines and all.
func TestSignInFrequencyFromTheWire(t *testing.T) {
	body := `{"error":"invalid_grant","error_description":"AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on 2022-01-15T22:57:51.2550000Z and the maximum allowed lifetime for this request is 32400.\r\nTrace ID: 05c52010-d810-4d78-91ca-c1318ad4ca00\r\nCorrelation ID: 6d2db73d-1006-47bb-a55b-1adb26ccc06e\r\nTimestamp: 2022-01-16 19:11:53Z","error_codes":[70043],"timestamp":"2022-01-16 19:11:53Z","trace_id":"05c52010-d810-4d78-91ca-c1318ad4ca00","correlation_id":"6d2db73d-1006-47bb-a55b-1adb26ccc06e","suberror":"token_expired"}`
	e := FromRetrieveError(tokenFailure(t, 400, nil, body))
	if d, ok := SignInFrequency(e); !ok || d != 9*time.Hour {
		t.Fatalf("SignInFrequency(%v) = %v, %t; want 9h", e, d, ok)
	}
	if !e.NeedsInteraction() {
		t.Error("a sign-in frequency refusal does not need a person")
	}
}

func TestDeviceCodeBlocked(t *testing.T) {
	if !DeviceCodeBlocked(&Error{Err: "invalid_grant", Code: 53003, Description: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."}) {
		t.Error("53003 not read as a block")
	}
	for _, e := range []*Error{nil, {Err: "authorization_declined", Code: 65004}, {Err: "expired_token", Code: 70020}, {Err: "invalid_grant", Code: 53000}} {
		if DeviceCodeBlocked(e) {
			t.Errorf("%v read as a Conditional Access block", e)
		}
	}
}

func FuzzMaxAllowedLifetime(f *testing.F) {
	for _, s := range []string{"maximum allowed lifetime for this request is 36000.", "maximum allowed lifetime for this request is 1.00:00:00", "maximum allowed lifetime for this request is 99:99:99.99999999", "maximum allowed lifetime for this request is 0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := MaxAllowedLifetime(s)
		if ok && (d <= 0 || d > longestSession) {
			t.Errorf("MaxAllowedLifetime(%q) = %v", s, d)
		}
		if !ok && d != 0 {
			t.Errorf("MaxAllowedLifetime(%q) = %v with ok false", s, d)
		}
		if ok && !strings.Contains(strings.ToLower(s), "lifetime") {
			t.Errorf("MaxAllowedLifetime(%q) found a lifetime without the phrase", s)
		}
	})
}

// TestDeviceBlockHintPointsToTheLink: for device code sign-in, a 53003
// most often means the flow itself is blocked, so the fix is the link.
func TestDeviceBlockHintPointsToTheLink(t *testing.T) {
	got := Hint(53003, HintContext{Method: "device", LinkCommand: "ms365auth link --profile work"})
	if !strings.Contains(got, "`ms365auth link --profile work` without --device") || !strings.Contains(got, "Authentication flows") {
		t.Errorf("device hint for 53003: %q", got)
	}
	if general := Hint(53003, HintContext{Method: "paste"}); strings.Contains(general, "--device") {
		t.Errorf("the paste method's hint for 53003 talks about device code: %q", general)
	}
}
