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
	"github.com/ms365auth/ms365auth/pkg/entratest"
)

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
func deviceClient(t *testing.T) (*entratest.Server, Client) {
	srv, c := newClient(t)
	srv.SetDeviceInterval(time.Second)
	return srv, c
}

func TestWaitDevice(t *testing.T) {
	const claims = `{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}`
	for _, tt := range []struct {
		name   string
		act    func(t *testing.T, srv *entratest.Server, da *oauth2.DeviceAuthResponse)
		reason error // nil: tokens
		code   int   // Entra's AADSTS number in the error, 0 for none
	}{
		{"approved on the phone", func(t *testing.T, _ *entratest.Server, da *oauth2.DeviceAuthResponse) {
			if page := phone(t, da, "approve"); !strings.Contains(page, "signed in") {
				t.Errorf("approval page: %s", page)
			}
		}, nil, 0},
		{"declined on the phone", func(t *testing.T, _ *entratest.Server, da *oauth2.DeviceAuthResponse) {
			phone(t, da, "decline")
		}, ErrDeviceDeclined, 65004},
		{"expired at the server", func(_ *testing.T, srv *entratest.Server, _ *oauth2.DeviceAuthResponse) {
			srv.ExpireDeviceCodes()
		}, ErrDeviceExpired, 70020},
		{"blocked by an authentication flows policy", func(t *testing.T, srv *entratest.Server, da *oauth2.DeviceAuthResponse) {
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
			res, err := c.WaitDevice(ctx, da)
			if tt.reason == nil {
				if err != nil || res.Token.RefreshToken == "" || !res.IDToken {
					t.Fatalf("WaitDevice = %+v, %v; want tokens", res, err)
				}
				return
			}
			var de *DeviceError
			var ee *entra.Error
			if !errors.Is(err, tt.reason) || !errors.As(err, &de) || !errors.As(err, &ee) || ee.Code != tt.code {
				t.Fatalf("WaitDevice error %v, want %v with AADSTS%d", err, tt.reason, tt.code)
			}
			for _, other := range []error{ErrDeviceDeclined, ErrDeviceExpired, ErrDeviceBlocked} {
				if other != tt.reason && errors.Is(err, other) {
					t.Errorf("%v also reads as %v", err, other)
				}
			}
		})
	}
}

// TestWaitDeviceExpiresByItsLifetime: nobody acts, and the code's
// expires_in runs out before any answer says so.
func TestWaitDeviceExpiresByItsLifetime(t *testing.T) {
	t.Parallel()
	srv, c := deviceClient(t)
	srv.SetDeviceCodeLifetime(time.Second)
	da, err := c.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitDevice(context.Background(), da)
	var de *DeviceError
	if !errors.Is(err, ErrDeviceExpired) || !errors.As(err, &de) {
		t.Fatalf("WaitDevice error %v, want ErrDeviceExpired", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the code's expiry reads as the caller's deadline: %v", err)
	}
}

// TestWaitDeviceStopsAtTheCallersDeadline: a wait cut short by the caller
// (a --device-wait shorter than the code's life) is not an expired code.
func TestWaitDeviceStopsAtTheCallersDeadline(t *testing.T) {
	t.Parallel()
	_, c := deviceClient(t)
	da, err := c.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err = c.WaitDevice(ctx, da)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrDeviceExpired) {
		t.Fatalf("WaitDevice error %v, want the caller's deadline, not an expired code", err)
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
