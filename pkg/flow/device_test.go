package flow

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entratest"
)

func TestNewDeviceWait(t *testing.T) {
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	expiry := now.Add(10 * time.Minute)
	tests := []struct {
		name    string
		expiry  time.Time
		timeout time.Duration
		want    DeviceWait
	}{
		{"until the code expires", expiry, 0, DeviceWait{Expiry: expiry, Deadline: expiry}},
		{"a longer timeout changes nothing", expiry, time.Hour, DeviceWait{Expiry: expiry, Deadline: expiry}},
		{"a shorter timeout cuts it short", expiry, time.Minute, DeviceWait{Expiry: expiry, Deadline: now.Add(time.Minute), CutShort: true}},
		{"no expiry given: Entra's lifetime", time.Time{}, 0, DeviceWait{Expiry: now.Add(15 * time.Minute), Deadline: now.Add(15 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewDeviceWait(&oauth2.DeviceAuthResponse{Expiry: tt.expiry}, now, tt.timeout)
			if got != tt.want {
				t.Errorf("NewDeviceWait = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// startDevice starts a device code sign-in against the double, which
// answers polls once a second.
func startDevice(t *testing.T) (*entratest.Server, Client, *oauth2.DeviceAuthResponse) {
	t.Helper()
	srv, c := newClient(t)
	srv.SetDeviceInterval(time.Second)
	da, err := c.StartDevice(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, da
}

func TestWaitForDevice(t *testing.T) {
	refused := func(e entratest.TokenError) func(*testing.T, *entratest.Server, string) {
		return func(t *testing.T, srv *entratest.Server, _ string) { srv.RefuseTokenRequests(1, e) }
	}
	tests := []struct {
		name   string
		answer func(t *testing.T, srv *entratest.Server, userCode string)
		want   error
		entra  string // Entra's error, wrapped
	}{
		{"approved", func(t *testing.T, srv *entratest.Server, code string) {
			if err := srv.ApproveDevice(code); err != nil {
				t.Fatal(err)
			}
		}, nil, ""},
		{"declined", func(t *testing.T, srv *entratest.Server, code string) {
			if err := srv.DeclineDevice(code); err != nil {
				t.Fatal(err)
			}
		}, ErrDeviceDeclined, "authorization_declined"},
		{"access_denied", refused(entratest.TokenError{Error: "access_denied", Message: "The end user denied the authorization request."}), ErrDeviceDeclined, "access_denied"},
		{"expired", refused(entratest.TokenError{Error: "expired_token", Code: 70020, Message: "This device code has expired."}), ErrDeviceExpired, "expired_token"},
		{"unknown code", refused(entratest.TokenError{Error: "bad_verification_code", Code: 70018, Message: "The provided value for the input parameter 'device_code' is not valid."}), ErrDeviceUnknown, "bad_verification_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, da := startDevice(t)
			tt.answer(t, srv, da.UserCode)
			res, err := c.WaitForDevice(t.Context(), da, NewDeviceWait(da, time.Now(), 0))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (res == nil || res.Token.RefreshToken == "") {
				t.Errorf("approved, but the result holds no refresh token: %+v", res)
			}
			var ee *entra.Error
			if tt.entra != "" && (!errors.As(err, &ee) || ee.Err != tt.entra) {
				t.Errorf("error = %v, want it to wrap Entra's %s", err, tt.entra)
			}
		})
	}
}

// TestWaitForDeviceDeadline: the wait ends at its deadline (here already
// past), as a timeout when the person's timeout cut it short, else as the
// code's expiry; a cancelled context stays a cancellation.
func TestWaitForDeviceDeadline(t *testing.T) {
	_, c, da := startDevice(t)
	past := time.Now().Add(-time.Second)
	if _, err := c.WaitForDevice(t.Context(), da, DeviceWait{Expiry: da.Expiry, Deadline: past, CutShort: true}); !errors.Is(err, ErrDeviceTimeout) {
		t.Errorf("cut short: error = %v, want ErrDeviceTimeout", err)
	}
	if _, err := c.WaitForDevice(t.Context(), da, DeviceWait{Expiry: past, Deadline: past}); !errors.Is(err, ErrDeviceExpired) {
		t.Errorf("at the expiry: error = %v, want ErrDeviceExpired", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.WaitForDevice(ctx, da, NewDeviceWait(da, time.Now(), 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error = %v, want context.Canceled", err)
	}
}
