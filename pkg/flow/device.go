package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// DeviceCodeLifetime is how long Entra's device codes live (expires_in
// 900), for a server that does not say.
const DeviceCodeLifetime = 15 * time.Minute

// The ways a device code sign-in ends without tokens that a caller acts
// on; match them with errors.Is.
var (
	ErrDeviceDeclined = errors.New("the sign-in was declined on the verification page")
	ErrDeviceExpired  = errors.New("the code expired before the sign-in finished")
	// ErrDeviceBlocked: Conditional Access refused the device code
	// sign-in, typically an "Authentication flows" policy; the sign-in
	// link may still work.
	ErrDeviceBlocked = errors.New("a Conditional Access policy of the organisation blocks device code sign-in")
)

// DeviceError is a device code sign-in that ended as one of the ErrDevice
// reasons. errors.As finds Entra's answer in it when there was one.
type DeviceError struct {
	Reason error        // ErrDeviceDeclined, ErrDeviceExpired or ErrDeviceBlocked
	Entra  *entra.Error // Entra's answer; nil when the code ran out before any
}

func (e *DeviceError) Error() string {
	if e.Entra == nil {
		return e.Reason.Error()
	}
	return e.Reason.Error() + " (" + e.Entra.Error() + ")"
}

func (e *DeviceError) Unwrap() []error {
	if e.Entra == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Entra}
}

// WaitDevice polls at the server's pace until the person approves the
// device code (tokens), declines it (ErrDeviceDeclined), it expires
// (ErrDeviceExpired: by the server's answer, or by its expires_in passing),
// or Conditional Access blocks the flow (ErrDeviceBlocked). When ctx ends
// first, for a wait the caller cut short, the error wraps ctx's
// (context.DeadlineExceeded or context.Canceled). Other failures are as
// PollDevice returns them.
func (c Client) WaitDevice(ctx context.Context, da *oauth2.DeviceAuthResponse) (*Result, error) {
	if da.Expiry.IsZero() {
		cp := *da
		cp.Expiry = time.Now().Add(DeviceCodeLifetime)
		da = &cp
	}
	res, err := c.PollDevice(ctx, da)
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped waiting for the device code sign-in: %w", ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// x/oauth2 stops polling at da.Expiry with the context's error.
		return nil, &DeviceError{Reason: ErrDeviceExpired}
	}
	var ee *entra.Error
	if !errors.As(err, &ee) {
		return nil, err
	}
	switch {
	case entra.DeviceCodeBlocked(ee): // first: whatever error value it comes with
		return nil, &DeviceError{Reason: ErrDeviceBlocked, Entra: ee}
	case ee.Err == "authorization_declined" || ee.Err == "access_denied": // Entra's word, and RFC 8628's
		return nil, &DeviceError{Reason: ErrDeviceDeclined, Entra: ee}
	case ee.Err == "expired_token":
		return nil, &DeviceError{Reason: ErrDeviceExpired, Entra: ee}
	}
	return nil, err
}
