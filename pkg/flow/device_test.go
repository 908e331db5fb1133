package flow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
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
func startDevice(t *testing.T) (*entrasim.Server, Client, *oauth2.DeviceAuthResponse) {
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
	refused := func(e entrasim.TokenError) func(*testing.T, *entrasim.Server, string) {
		return func(t *testing.T, srv *entrasim.Server, _ string) { srv.RefuseTokenRequests(1, e) }
	}
	tests := []struct {
		name   string
		answer func(t *testing.T, srv *entrasim.Server, userCode string)
		want   error
		entra  string // Entra's error, wrapped
	}{
		{"approved", func(t *testing.T, srv *entrasim.Server, code string) {
			if err := srv.ApproveDevice(code); err != nil {
				t.Fatal(err)
			}
		}, nil, ""},
		{"declined", func(t *testing.T, srv *entrasim.Server, code string) {
			if err := srv.DeclineDevice(code); err != nil {
				t.Fatal(err)
			}
		}, ErrDeviceDeclined, "authorization_declined"},
		{"access_denied", refused(entrasim.TokenError{Error: "access_denied", Message: "The end user denied the authorization request."}), ErrDeviceDeclined, "access_denied"},
		{"expired", refused(entrasim.TokenError{Error: "expired_token", Code: 70020, Message: "This device code has expired."}), ErrDeviceExpired, "expired_token"},
		{"unknown code", refused(entrasim.TokenError{Error: "bad_verification_code", Code: 70018, Message: "The provided value for the input parameter 'device_code' is not valid."}), ErrDeviceUnknown, "bad_verification_code"},
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

// phone is the person on their phone: the verification page, the code, and
// a choice, over plain HTTP. It returns the page shown afterwards.
func phone(t *testing.T, da *oauth2.DeviceAuthResponse, action string) string {
	t.Helper()
	resp, err := http.PostForm(da.VerificationURI, url.Values{"code": {da.UserCode}, "action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// deviceClient is a client of a double whose device codes may be polled
// every second, the shortest interval x/oauth2 honours.
func deviceClient(t *testing.T) (*entrasim.Server, Client) {
	srv, c := newClient(t)
	srv.SetDeviceInterval(time.Second)
	return srv, c
}

func TestWaitForDeviceAsAPhone(t *testing.T) {
	const claims = `{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}`
	for _, tt := range []struct {
		name   string
		act    func(t *testing.T, srv *entrasim.Server, da *oauth2.DeviceAuthResponse)
		reason error // nil: tokens
		code   int   // Entra's AADSTS number in the error, 0 for none
	}{
		{"approved on the phone", func(t *testing.T, _ *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			if page := phone(t, da, "approve"); !strings.Contains(page, "signed in") {
				t.Errorf("approval page: %s", page)
			}
		}, nil, 0},
		{"declined on the phone", func(t *testing.T, _ *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			phone(t, da, "decline")
		}, ErrDeviceDeclined, 65004},
		{"expired at the server", func(_ *testing.T, srv *entrasim.Server, _ *oauth2.DeviceAuthResponse) {
			srv.ExpireDeviceCodes()
		}, ErrDeviceExpired, 70020},
		{"blocked by an authentication flows policy", func(t *testing.T, srv *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			srv.BlockDeviceCodeFlow(true)
			if page := phone(t, da, "approve"); !strings.Contains(page, "53003") {
				t.Errorf("blocked sign-in page lacks 53003: %s", page)
			}
		}, ErrDeviceBlocked, 53003},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := deviceClient(t)
			ctx := context.Background()
			da, err := c.StartDevice(ctx, Options{Claims: claims})
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.DeviceCodeRequests()[0].Get("claims"); got != claims {
				t.Errorf("claims sent %q, want %q", got, claims)
			}
			tt.act(t, srv, da)
			res, err := c.WaitForDevice(ctx, da, NewDeviceWait(da, time.Now(), 0))
			if tt.reason == nil {
				if err != nil || res.Token.RefreshToken == "" || !res.IDToken {
					t.Fatalf("WaitForDevice = %+v, %v; want tokens", res, err)
				}
				return
			}
			var ee *entra.Error
			if !errors.Is(err, tt.reason) || !errors.As(err, &ee) || ee.Code != tt.code {
				t.Fatalf("WaitForDevice error %v, want %v with AADSTS%d", err, tt.reason, tt.code)
			}
			for _, other := range []error{ErrDeviceDeclined, ErrDeviceExpired, ErrDeviceBlocked} {
				if other != tt.reason && errors.Is(err, other) {
					t.Errorf("%v also reads as %v", err, other)
				}
			}
		})
	}
}

// TestWaitForDeviceExpiresByItsLifetime: nobody acts, and the code's
// expires_in runs out before any answer says so.
func TestWaitForDeviceExpiresByItsLifetime(t *testing.T) {
	t.Parallel()
	srv, c := deviceClient(t)
	srv.SetDeviceCodeLifetime(time.Second)
	da, err := c.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitForDevice(context.Background(), da, NewDeviceWait(da, time.Now(), 0))
	if !errors.Is(err, ErrDeviceExpired) {
		t.Fatalf("WaitForDevice error %v, want ErrDeviceExpired", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the code's expiry reads as the caller's deadline: %v", err)
	}
}

// TestWaitForDeviceStopsAtTheCallersDeadline: a wait cut short by the caller
// (a --device-wait shorter than the code's life) is not an expired code.
func TestWaitForDeviceStopsAtTheCallersDeadline(t *testing.T) {
	t.Parallel()
	_, c := deviceClient(t)
	da, err := c.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err = c.WaitForDevice(ctx, da, NewDeviceWait(da, time.Now(), 0))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrDeviceExpired) {
		t.Fatalf("WaitForDevice error %v, want the caller's deadline, not an expired code", err)
	}
}

func TestRefreshExpiresIn(t *testing.T) {
	srv, c := newClient(t)
	a, _ := c.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	returned, err := srv.Authorize(context.Background(), a.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.RedeemReturnedURL(context.Background(), returned)
	if err != nil {
		t.Fatal(err)
	}
	if res.RefreshExpiresIn != 0 {
		t.Errorf("Entra-like answer: RefreshExpiresIn %v, want 0 (unknown)", res.RefreshExpiresIn)
	}
	srv.AnnounceRefreshLifetime(30 * 24 * time.Hour)
	r2, err := c.Refresh(context.Background(), res.Token.RefreshToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r2.RefreshExpiresIn != 30*24*time.Hour {
		t.Errorf("RefreshExpiresIn %v, want 720h", r2.RefreshExpiresIn)
	}
}

func TestLifetime(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want time.Duration
	}{
		{float64(1800), 30 * time.Minute},
		{"1800", 30 * time.Minute},
		{" 86400 ", 24 * time.Hour},
		{float64(0), 0},
		{float64(-5), 0},
		{float64(1.5), 0},
		{"soon", 0},
		{float64(1e12), 0},
		{nil, 0},
		{true, 0},
	} {
		if got := lifetime(tt.in); got != tt.want {
			t.Errorf("lifetime(%#v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
