package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ms365auth/ms365auth/pkg/atomicfile"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// DeviceNotice is what a person needs to finish a device code sign-in
// from another device, a phone: a code and an address, never a token.
type DeviceNotice struct {
	Profile         string
	UserCode        string
	VerificationURL string
	// Until is when the waiting run stops: the code's expiry, or the end
	// of the wait when that is sooner.
	Until time.Time
}

// Message is the notice as one line a phone notification can show.
func (n DeviceNotice) Message() string {
	return fmt.Sprintf("ms365auth: profile %q needs a sign-in: open %s and enter the code %s before %s.",
		n.Profile, n.VerificationURL, n.UserCode, n.Until.Local().Format("15:04 MST"))
}

// DeviceSignIn says how ReauthByDevice signs a profile in again.
type DeviceSignIn struct {
	// Profile is the profile's settings, with the scopes to ask for.
	Profile *profile.Profile
	// Store is where its tokens are kept (Linked.Store).
	Store store.Store
	// Claims is a claims challenge the sign-in must answer, "" if none.
	Claims string
	// Wait bounds the wait; the code's own expiry (15 minutes at Entra)
	// ends it sooner.
	Wait time.Duration
	// ObjectID is the linked account's: the tokens of another account are
	// not kept. "" accepts any.
	ObjectID string
	// Notify tells the person the code, once it is issued.
	Notify func(DeviceNotice)
}

// DeviceFallbackError means no device code sign-in finished and the
// person should be sent the sign-in link instead, for Reason.
type DeviceFallbackError struct {
	Reason string
	Err    error // the device code outcome (flow.ErrDevice...), if any
}

func (e *DeviceFallbackError) Error() string { return e.Reason }
func (e *DeviceFallbackError) Unwrap() error { return e.Err }

// deviceWaitState records a device code sign-in that a run is waiting
// for, so that the next run does not start a second one.
type deviceWaitState struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Until   time.Time `json:"until"`
}

// deviceWaitPath is where profile name's waiting device code is recorded.
func (s *Service) deviceWaitPath(name string) string {
	if s.d.StateDir == "" {
		return ""
	}
	return filepath.Join(s.d.StateDir, "device-wait-"+name+".json")
}

// WaitingDevice reports until when another run waits for a device code
// sign-in of profile name; ok is false when none does.
func (s *Service) WaitingDevice(name string) (until time.Time, ok bool) {
	path := s.deviceWaitPath(name)
	if path == "" {
		return time.Time{}, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	var w deviceWaitState
	if json.Unmarshal(data, &w) != nil || !s.d.Now().Before(w.Until) {
		return time.Time{}, false // unreadable or over: as if none
	}
	return w.Until, true
}

// claimDeviceWait records, under the profile's lock, that this run waits
// for a device code sign-in until until; it fails with exit-3 words when
// another run already waits. release removes the record.
func (s *Service) claimDeviceWait(ctx context.Context, name string, until time.Time) (release func(), err error) {
	path := s.deviceWaitPath(name)
	if path == "" {
		return func() {}, nil // nowhere to record it: nothing to share with
	}
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if other, ok := s.WaitingDevice(name); ok {
		return nil, &SignInRequiredError{Profile: name,
			Reason: "another run is waiting until " + other.Local().Format("15:04 MST") + " for the device code sign-in it sent; enter that code, or run this after then"}
	}
	data, err := json.Marshal(deviceWaitState{PID: os.Getpid(), Started: s.d.Now(), Until: until})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return nil, fmt.Errorf("cannot record the device code wait: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// deviceOutcome is the words of the flow.ErrDevice... that err is.
func deviceOutcome(err error) string {
	for _, e := range []error{flow.ErrDeviceDeclined, flow.ErrDeviceExpired, flow.ErrDeviceUnknown} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return err.Error()
}

// ReauthByDevice signs profile o.Profile in again with a device code, for
// an unattended reauth whose person is elsewhere: it starts the sign-in
// with the profile's scopes (and o.Claims), tells the person through
// o.Notify, polls until they approve, and keeps the tokens as link does.
//
// The profile's lock is held only to record the wait and to save the
// tokens, so a concurrent token command still serves a valid access token
// meanwhile; a second run finds the recorded wait and ends with a
// *SignInRequiredError saying so, without starting another code.
//
// When the device code cannot do it (a confidential client, a refusal by
// Conditional Access, a decline, the code expiring or the wait ending) the
// error is a *DeviceFallbackError whose Reason says why, and the caller
// sends the sign-in link instead.
func (s *Service) ReauthByDevice(ctx context.Context, o DeviceSignIn) (*store.Record, error) {
	p := o.Profile
	if p.Confidential {
		return nil, &DeviceFallbackError{Reason: "device code sign-in needs a public client, and this profile has a client secret"}
	}
	// Recorded before the code exists, so two runs never both start one;
	// a code never outlives flow.DeviceCodeLifetime.
	limit := flow.DeviceCodeLifetime
	if o.Wait > 0 {
		limit = min(limit, o.Wait)
	}
	release, err := s.claimDeviceWait(ctx, p.Name, s.d.Now().Add(limit))
	if err != nil {
		return nil, err
	}
	defer release()

	client := s.Client(p, "")
	da, err := client.StartDevice(ctx, flow.Options{Claims: o.Claims})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &DeviceFallbackError{Reason: "device code sign-in could not start: " + s.WithHint(err, p).Error(), Err: err}
	}
	wait := flow.NewDeviceWait(da, s.d.Now(), limit)
	if o.Notify != nil {
		o.Notify(DeviceNotice{Profile: p.Name, UserCode: da.UserCode, VerificationURL: da.VerificationURI, Until: wait.Deadline})
	}
	res, err := client.WaitForDevice(ctx, da, wait)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, err
	case errors.Is(err, flow.ErrDeviceBlocked):
		return nil, &DeviceFallbackError{Reason: "the organisation's Conditional Access blocks device code sign-in (AADSTS53003), so the sign-in link is sent instead", Err: err}
	case errors.Is(err, flow.ErrDeviceDeclined), errors.Is(err, flow.ErrDeviceExpired), errors.Is(err, flow.ErrDeviceUnknown):
		return nil, &DeviceFallbackError{Reason: "the device code sign-in did not finish: " + deviceOutcome(err), Err: err}
	case errors.Is(err, flow.ErrDeviceTimeout):
		return nil, &DeviceFallbackError{Reason: fmt.Sprintf("no one entered the device code within --device-wait %s", o.Wait), Err: err}
	default:
		return nil, &DeviceFallbackError{Reason: "the device code sign-in failed: " + s.WithHint(err, p).Error(), Err: err}
	}
	// A reauth renews a link; another account's tokens must not land
	// under this profile.
	if o.ObjectID != "" && res.Claims.OID != "" && res.Claims.OID != o.ObjectID {
		return nil, fmt.Errorf("the device code was approved by %s, but profile %q is linked to another account: nothing was changed",
			firstNonEmpty(res.Claims.Account(), "another account"), p.Name)
	}
	rec, _, err := s.Keep(ctx, p, res, KeepOptions{Store: o.Store})
	return rec, err
}
