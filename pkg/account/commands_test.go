package account

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

func TestLinkCommand(t *testing.T) {
	f := newFixture(t)
	first := func(name, clientID string, change profile.Change) *profile.Profile {
		t.Helper()
		change.ClientID = clientID
		p, err := profile.Profile{Name: name, Method: profile.MethodPaste}.Apply(change)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.link("work", f.keyring)
	moreScopes := f.profile("work")
	moreScopes.Scopes = append(moreScopes.Scopes, "https://graph.microsoft.com/Mail.Send")
	inFiles := first("x", entrasim.DefaultClientID, profile.Change{Tenant: "organizations"})
	inFiles.Store = StoreFile
	sandbox := func(store string) *profile.Profile {
		scopes, _ := entra.ResolveScopes(SandboxScopes())
		return &profile.Profile{Name: profile.SandboxName, Sandbox: true, Scopes: scopes, Store: store}
	}
	cases := []struct {
		name string
		p    *profile.Profile
		want string
	}{
		{"first link, in files, another tenant", inFiles,
			"ms365auth link --profile x --device --client-id " + entrasim.DefaultClientID + " --tenant organizations --store file"},
		{"a client ID that is not a GUID is not echoed", first("y", "not-a-guid", profile.Change{}),
			"ms365auth link --profile y --device --client-id <application ID>"},
		{"linked, asking for more scopes", moreScopes,
			"ms365auth link --profile work --device --scopes '" + strings.Join(moreScopes.Scopes, ",") + "' --force"},
		{"linked, as it is", f.profile("work"), "ms365auth link --profile work --device --force"},
		{"the first sandbox, in files", sandbox(StoreFile), "ms365auth link --sandbox --store file"},
	}
	for _, c := range cases {
		if got := f.svc.LinkCommand(c.p, profile.MethodDevice); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	// A sandbox the settings keep in files is linked there again without
	// being told.
	if err := f.settings.Update(func(c *profile.Config) { c.Set(sandbox(StoreFile)) }); err != nil {
		t.Fatal(err)
	}
	if got, want := f.svc.LinkCommand(sandbox(StoreFile), profile.MethodPaste), "ms365auth link --sandbox --force"; got != want {
		t.Errorf("remembered sandbox: got %s, want %s", got, want)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var nl *NotLinkedError
	if err := f.svc.Logout(ctx, "nosuch"); !errors.As(err, &nl) || nl.HasSettings {
		t.Errorf("never linked: %v", err)
	}
	f.link("work", f.keyring)
	if err := f.svc.Logout(ctx, "work"); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if _, err := f.keyring.Load("work"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tokens left: %v", err)
	}
	// The keyring out of reach: a second logout, and forgetting, need it not.
	f.keyring.failAll = &store.UnavailableError{Cause: "no bus."}
	if err := f.svc.Logout(ctx, "work"); !errors.As(err, &nl) || !nl.HasSettings {
		t.Errorf("second logout: %v", err)
	}
	if err := f.svc.Forget([]string{"work"}); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := f.settings.Get("work"); p != nil {
		t.Errorf("settings left: %+v", p)
	}
	// A new sign-in clears the mark.
	f.keyring.failAll = nil
	f.link("work", f.keyring)
	if p, _, _ := f.settings.Get("work"); p == nil || p.LoggedOut {
		t.Errorf("after a new link: %+v", p)
	}
}

// TestLogoutAll: which failures keep --forget (or --all) from removing a
// profile's settings, and what each says.
func TestLogoutAll(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.link("work", f.keyring)
	f.link("home", f.keyring)
	f.link("old", f.keyring)
	if err := f.svc.Logout(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	load := func() *profile.Config {
		cfg, err := f.settings.Load()
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	// Without --forget or --all, a profile logged out already is a failure
	// and a never-linked one too; the settings stay.
	r := f.svc.LogoutAll(ctx, load(), []string{"work", "old", "nosuch"}, false, false)
	if !slices.Equal(r.LoggedOut, []string{"work"}) || r.Forgotten != nil || len(r.Errs) != 2 ||
		!strings.HasPrefix(r.Errs[0], `profile "old": it is not linked (it was logged out)`) || !strings.HasPrefix(r.Errs[1], `profile "nosuch": nothing is linked`) {
		t.Errorf("plain: %+v", r)
	}
	// With --all, one logged out already is not a failure.
	if r := f.svc.LogoutAll(ctx, load(), []string{"work", "old"}, false, true); len(r.LoggedOut) != 0 || len(r.Errs) != 0 {
		t.Errorf("--all: %+v", r)
	}
	// --forget with the keyring out of reach: the settings go, and the
	// message says how to remove the tokens later.
	f.keyring.failAll = &store.UnavailableError{Cause: "no bus."}
	r = f.svc.LogoutAll(ctx, load(), []string{"home", "old"}, true, false)
	if !slices.Equal(r.Forgotten, []string{"home", "old"}) || len(r.Errs) != 1 ||
		!strings.Contains(r.Errs[0], `profile "home": its settings are forgotten`) || !strings.HasSuffix(r.Errs[0], "remove them with: ms365auth logout --profile home") {
		t.Errorf("--forget without a keyring: %+v", r)
	}
	if names := load().Names(); !slices.Equal(names, []string{"work"}) {
		t.Errorf("settings left: %q, want work's", names)
	}
}
