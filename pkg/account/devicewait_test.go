package account

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// deviceRun is one ReauthByDevice of profile "work", whose refresh tokens
// Entra revoked: what the phone does with the notice is phone's.
func deviceRun(t *testing.T, f *fixture, wait time.Duration, phone func(DeviceNotice)) (*store.Record, []DeviceNotice, error) {
	t.Helper()
	l, err := f.svc.LoadLinked(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	var notices []DeviceNotice
	rec, err := f.svc.ReauthByDevice(context.Background(), DeviceSignIn{
		Profile: l.Profile, Store: l.Store, Wait: wait, ObjectID: l.Record.ObjectID,
		Notify: func(n DeviceNotice) {
			notices = append(notices, n)
			if phone != nil {
				phone(n)
			}
		},
	})
	return rec, notices, err
}

// deviceFixture links "work", then Entra revokes its refresh token, so a
// person must sign in; device codes are polled every second.
func deviceFixture(t *testing.T) (*fixture, *store.Record) {
	f := newFixture(t)
	f.now = time.Now()
	f.srv.SetDeviceInterval(time.Second)
	old := f.link("work", f.keyring)
	f.srv.RevokeRefreshTokens()
	return f, old
}

func TestReauthByDeviceApprovedFromThePhone(t *testing.T) {
	f, old := deviceFixture(t)
	rec, notices, err := deviceRun(t, f, 15*time.Minute, func(n DeviceNotice) {
		// The phone: the person opens the address and enters the code.
		go func() {
			if err := f.srv.ApproveDevice(n.UserCode); err != nil {
				t.Error(err)
			}
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 {
		t.Fatalf("%d notices, want 1", len(notices))
	}
	n := notices[0]
	if n.UserCode == "" || !strings.HasSuffix(n.VerificationURL, "/devicelogin") {
		t.Errorf("notice %+v", n)
	}
	msg := n.Message()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, n.UserCode) || !strings.Contains(msg, n.VerificationURL) || !strings.Contains(msg, `"work"`) {
		t.Errorf("message %q: want one line with the profile, the code and the address", msg)
	}
	stored := f.stored(f.keyring, "work")
	if stored.RefreshToken == old.RefreshToken || stored.RefreshToken != rec.RefreshToken || stored.NeedsReauth {
		t.Errorf("the new tokens were not kept")
	}
	if _, ok := f.srv.LookupAccessToken(stored.AccessToken); !ok {
		t.Errorf("the stored access token is not one the server issued")
	}
	// The device code asked for the profile's scopes.
	reqs := f.srv.DeviceCodeRequests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Get("scope"), "User.Read") || !strings.Contains(reqs[0].Get("scope"), "offline_access") {
		t.Errorf("device code requests: %v", reqs)
	}
	if _, waiting := f.svc.WaitingDevice("work"); waiting {
		t.Errorf("the wait is still recorded after it ended")
	}
}

func TestReauthByDeviceEndsInTheLink(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(f *fixture)
		phone  func(f *fixture, n DeviceNotice)
		wait   time.Duration
		reason string
		is     error
	}{
		{"declined", nil, func(f *fixture, n DeviceNotice) { f.srv.DeclineDevice(n.UserCode) }, 15 * time.Minute, "declined", flow.ErrDeviceDeclined},
		{"expired", nil, func(f *fixture, n DeviceNotice) { f.srv.ExpireDeviceCodes() }, 15 * time.Minute, "expired", flow.ErrDeviceExpired},
		{"wait over", nil, nil, 2 * time.Second, "within --device-wait 2s", flow.ErrDeviceTimeout},
		{"blocked by Conditional Access", func(f *fixture) { f.srv.BlockDeviceCodeFlow(true) }, func(f *fixture, n DeviceNotice) {
			var pe *entrasim.PageError
			if err := f.srv.ApproveDevice(n.UserCode); !errors.As(err, &pe) || pe.Code != 53003 {
				f.t.Errorf("the page said %v, want 53003", err)
			}
		}, 15 * time.Minute, "Conditional Access blocks device code sign-in (AADSTS53003)", flow.ErrDeviceBlocked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, old := deviceFixture(t)
			if c.setup != nil {
				c.setup(f)
			}
			_, notices, err := deviceRun(t, f, c.wait, func(n DeviceNotice) {
				if c.phone != nil {
					go c.phone(f, n)
				}
			})
			var fb *DeviceFallbackError
			if !errors.As(err, &fb) || !strings.Contains(fb.Reason, c.reason) || !errors.Is(err, c.is) {
				t.Fatalf("err %v, want a fallback to the link saying %q", err, c.reason)
			}
			if len(notices) != 1 {
				t.Errorf("%d notices, want 1", len(notices))
			}
			if got := f.stored(f.keyring, "work"); got.RefreshToken != old.RefreshToken {
				t.Errorf("the stored tokens changed")
			}
			if _, waiting := f.svc.WaitingDevice("work"); waiting {
				t.Errorf("the wait is still recorded after it ended")
			}
		})
	}
}

func TestReauthByDeviceNeedsAPublicClient(t *testing.T) {
	f, _ := deviceFixture(t)
	l, err := f.svc.LoadLinked(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	l.Profile.Confidential = true
	_, err = f.svc.ReauthByDevice(context.Background(), DeviceSignIn{Profile: l.Profile, Store: l.Store, Wait: time.Minute,
		Notify: func(DeviceNotice) { t.Error("a confidential client was sent a device code") }})
	var fb *DeviceFallbackError
	if !errors.As(err, &fb) || !strings.Contains(fb.Reason, "public client") {
		t.Fatalf("err %v", err)
	}
	if n := len(f.srv.DeviceCodeRequests()); n != 0 {
		t.Errorf("%d device codes requested", n)
	}
}

// TestReauthByDeviceTwoRuns: while one run waits for the phone, a second
// run does not start another device code (it says one is waiting), and a
// token command still gets the valid access token: the lock is not held
// while waiting.
func TestReauthByDeviceTwoRuns(t *testing.T) {
	f, _ := deviceFixture(t)
	// A token that is still valid: only the refresh token was revoked.
	valid := f.stored(f.keyring, "work").AccessToken
	var second error
	var served *Token
	var tokenErr error
	_, notices, err := deviceRun(t, f, 15*time.Minute, func(n DeviceNotice) {
		go func() {
			// Bounded: without the recorded wait it would poll a code of
			// its own.
			_, more, err := deviceRun(t, f, 3*time.Second, nil)
			if len(more) != 0 {
				t.Errorf("the second run sent a notice: %+v", more)
			}
			second = err
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			served, tokenErr = f.svc.AccessToken(ctx, "work", TokenRequest{})
			f.srv.ApproveDevice(n.UserCode)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	var sr *SignInRequiredError
	if !errors.As(second, &sr) || !strings.Contains(sr.Reason, "another run is waiting until") {
		t.Errorf("second run: %v, want exit-3 words saying another run waits", second)
	}
	if tokenErr != nil || served.AccessToken != valid {
		t.Errorf("token during the wait: %v", tokenErr)
	}
	if len(notices) != 1 || len(f.srv.DeviceCodeRequests()) != 1 {
		t.Errorf("%d notices and %d device codes, want one each", len(notices), len(f.srv.DeviceCodeRequests()))
	}
}

// TestDeviceWaitRecordExpires: a run that died while waiting leaves a
// record that stops mattering when its wait would have ended.
func TestDeviceWaitRecordExpires(t *testing.T) {
	f := newFixture(t)
	release, err := f.svc.claimDeviceWait(context.Background(), "work", f.clock().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_ = release // the run died: nothing removes it
	if _, err := f.svc.claimDeviceWait(context.Background(), "work", f.clock().Add(time.Minute)); err == nil {
		t.Fatal("a second wait was recorded beside the first")
	}
	f.now = f.now.Add(61 * time.Second)
	if _, err := f.svc.claimDeviceWait(context.Background(), "work", f.clock().Add(time.Minute)); err != nil {
		t.Fatalf("an old record still blocks: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.svc.d.StateDir, "device-wait-work.json")); err != nil {
		t.Error(err)
	}
}
