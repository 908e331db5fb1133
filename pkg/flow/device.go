package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// DeviceCodeLifetime is how long Entra's device codes live (its answers
// say expires_in 900), for a server whose answer does not say.
const DeviceCodeLifetime = 15 * time.Minute

// How a device code sign-in can end without tokens, other than a
// cancelled context or a failure to reach the server. Each needs a new
// device code; WaitForDevice wraps Entra's own error, when it sent one.
var (
	ErrDeviceDeclined = errors.New("the sign-in was declined on the verification page")
	ErrDeviceExpired  = errors.New("the code expired before the sign-in finished")
	ErrDeviceUnknown  = errors.New("the server did not recognise the device code")
	ErrDeviceTimeout  = errors.New("the wait ended before the code expired")
	// ErrDeviceBlocked: Conditional Access refused the device code
	// sign-in, typically an "Authentication flows" policy; the sign-in
	// link may still work.
	ErrDeviceBlocked = errors.New("a Conditional Access policy of the organisation blocks device code sign-in")
)

// DeviceWait bounds the wait for a device code sign-in.
type DeviceWait struct {
	Expiry   time.Time // when the code expires
	Deadline time.Time // when the wait ends: Expiry, or the timeout's end when sooner
	CutShort bool      // the timeout ends the wait before the code expires
}

// NewDeviceWait waits until da's code expires (Entra's lifetime from now
// when the answer gave none), or for timeout from now when that is
// shorter; timeout 0 means until the code expires.
func NewDeviceWait(da *oauth2.DeviceAuthResponse, now time.Time, timeout time.Duration) DeviceWait {
	w := DeviceWait{Expiry: da.Expiry}
	if w.Expiry.IsZero() {
		w.Expiry = now.Add(DeviceCodeLifetime)
	}
	w.Deadline = w.Expiry
	if timeout > 0 && now.Add(timeout).Before(w.Expiry) {
		w.Deadline, w.CutShort = now.Add(timeout), true
	}
	return w
}

// WaitForDevice polls at the server's pace (see PollDevice) until the
// person approves or declines, the code expires, or w's deadline passes.
// Reaching the deadline is ErrDeviceTimeout when the timeout cut the wait
// short, else ErrDeviceExpired; a ctx that ends first stays ctx's error.
// Entra's 53003 (whatever error value it comes with) is ErrDeviceBlocked;
// authorization_declined (or RFC 8628's access_denied), expired_token and
// bad_verification_code are ErrDeviceDeclined, ErrDeviceExpired and
// ErrDeviceUnknown. Any other error is returned as PollDevice gives it.
func (c Client) WaitForDevice(ctx context.Context, da *oauth2.DeviceAuthResponse, w DeviceWait) (*Result, error) {
	wait, cancel := context.WithDeadline(ctx, w.Deadline)
	defer cancel()
	res, err := c.PollDevice(wait, da)
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped waiting for the device code sign-in: %w", ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if w.CutShort {
			return nil, ErrDeviceTimeout
		}
		return nil, ErrDeviceExpired
	}
	var ee *entra.Error
	if errors.As(err, &ee) {
		switch {
		case entra.DeviceCodeBlocked(ee):
			return nil, fmt.Errorf("%w: %w", ErrDeviceBlocked, err)
		case ee.Err == "authorization_declined" || ee.Err == "access_denied":
			return nil, fmt.Errorf("%w: %w", ErrDeviceDeclined, err)
		case ee.Err == "expired_token":
			return nil, fmt.Errorf("%w: %w", ErrDeviceExpired, err)
		case ee.Err == "bad_verification_code":
			return nil, fmt.Errorf("%w: %w", ErrDeviceUnknown, err)
		}
	}
	return nil, err
}
