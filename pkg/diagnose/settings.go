package diagnose

import (
	"context"
	"fmt"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// placeholderClientID stands in for a missing client ID so that the other
// settings can still be checked; it is never sent anywhere.
const placeholderClientID = "00000000-0000-0000-0000-000000000000"

// settingsFacts are the settings as link would use them.
type settingsFacts struct {
	loadErr    error            // the settings file cannot be read
	linked     bool             // the settings file knows the profile
	p          *profile.Profile // nil when the merged settings cannot be used
	mergeErr   error
	noClientID bool   // neither the command line nor the profile gives one
	storeName  string // the profile's store, known even when p is nil
}

// profileSettings merges the command line, the environment and the stored
// profile exactly as link does, once.
func (x *Examination) profileSettings() *settingsFacts {
	if x.settings != nil {
		return x.settings
	}
	f := &settingsFacts{}
	x.settings = f
	cfg, err := x.env.LoadConfig()
	if err != nil {
		f.loadErr = err
		cfg = &profile.Config{Profiles: map[string]*profile.Profile{}}
	}
	clientID := ""
	if old := cfg.Get(x.env.Profile); old != nil {
		f.linked, f.storeName = true, old.Store
		f.noClientID = x.env.ClientID == "" && old.ClientID == ""
	} else {
		f.noClientID = x.env.ClientID == ""
	}
	if f.noClientID {
		clientID = placeholderClientID
	}
	if f.p, f.mergeErr = x.env.Merge(cfg, clientID); f.mergeErr != nil {
		f.p = nil
	} else {
		f.storeName = f.p.Store
	}
	return f
}

// profile returns the merged settings, nil when they cannot be used.
func (x *Examination) profile() *profile.Profile { return x.profileSettings().p }

// SettingsGroup checks the settings file, the client ID and the merged
// settings.
func SettingsGroup() Group {
	return Group{Name: "settings", Checks: []Check{
		{ID: "config", Title: "settings file", Run: checkConfig},
		{ID: "client-id", Title: "client ID", Run: checkClientID},
		{ID: "settings", Title: "settings", Run: checkSettings},
	}}
}

func checkConfig(_ context.Context, x *Examination) Result {
	f := x.profileSettings()
	if f.loadErr == nil {
		return Result{}
	}
	return Result{Status: Fail, Summary: "cannot be read", Fix: f.loadErr.Error(), Cause: f.loadErr}
}

const clientIDFix = "pass --client-id with the Application (client) ID from the app registration's Overview page"

func checkClientID(_ context.Context, x *Examination) Result {
	f := x.profileSettings()
	switch {
	case f.noClientID:
		return Result{Status: Fail, Summary: "none given, and the profile has none", Fix: clientIDFix}
	case f.p == nil:
		return Result{} // the settings check says why
	case !entra.IsGUID(f.p.ClientID):
		// Not echoed: a value in the wrong place may be a client secret.
		return Result{Status: Fail, Summary: fmt.Sprintf("is not a GUID (%d characters)", len(f.p.ClientID)),
			Fix: clientIDFix + " (a GUID such as 00000000-0000-0000-0000-000000000000), not a secret or its ID"}
	}
	return Result{Status: OK, Summary: f.p.ClientID}
}

func checkSettings(_ context.Context, x *Examination) Result {
	f := x.profileSettings()
	if f.p == nil {
		return Result{Status: Fail, Summary: "invalid", Fix: f.mergeErr.Error(), Cause: f.mergeErr}
	}
	where := "from the flags and defaults (the profile is not linked yet)"
	if f.linked {
		where = "from the settings file, with the flags given"
	}
	p := f.p
	return Result{Status: OK, Summary: fmt.Sprintf("profile %q %s: authority %s/%s, method %s, scopes %s",
		p.Name, where, p.AuthorityHost, p.Tenant, p.Method, strings.Join(p.Scopes, " "))}
}
