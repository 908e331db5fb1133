package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ms365auth/ms365auth/pkg/atomicfile"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// A pending sign-in lets "link --print-link" and "link --returned-url" run
// as two processes. Entra's codes live about 10 minutes; so does this.
const pendingLifetime = 10 * time.Minute

type pendingSignIn struct {
	Profile  profile.Profile `json:"profile"`
	State    string          `json:"state"`
	Verifier string          `json:"verifier"`
	Created  time.Time       `json:"created"`
}

func stateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ms365auth"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a state directory (set XDG_STATE_HOME): %w", err)
	}
	return filepath.Join(home, ".local", "state", "ms365auth"), nil
}

func pendingPath(name string) (string, error) {
	dir, err := stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pending-"+name+".json"), nil
}

// savePending keeps what "link --returned-url" needs to finish auth.
func savePending(env *Env, p *profile.Profile, auth *flow.Authorization) error {
	path, err := pendingPath(p.Name)
	if err != nil {
		return err
	}
	data, err := json.Marshal(pendingSignIn{Profile: *p, State: auth.State, Verifier: auth.Verifier(), Created: env.Now()})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

func startPending(env *Env, p *profile.Profile, auth *flow.Authorization) error {
	if err := savePending(env, p, auth); err != nil {
		return err
	}
	fmt.Fprintln(env.Out, auth.URL)
	fmt.Fprintf(env.Err, "Open the link, sign in, then within 10 minutes run:\n  ms365auth link%s --returned-url -\nand paste the URL of the page you land on (or give it instead of -)\n", profileFlag(p.Name))
	return nil
}

func finishPending(ctx context.Context, env *Env, o *linkOptions) error {
	path, err := pendingPath(o.Profile)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no sign-in is waiting for a returned URL in profile %q: start one with: ms365auth link%s --print-link", o.Profile, profileFlag(o.Profile))
	}
	if err != nil {
		return err
	}
	var ps pendingSignIn
	if err := json.Unmarshal(data, &ps); err != nil {
		os.Remove(path)
		return fmt.Errorf("the waiting sign-in could not be read; start again with: ms365auth link%s --print-link", profileFlag(o.Profile))
	}
	if env.Now().Sub(ps.Created) > pendingLifetime {
		os.Remove(path)
		return fmt.Errorf("the sign-in started with --print-link is older than 10 minutes and its code has expired: start again with: ms365auth link%s --print-link", profileFlag(o.Profile))
	}
	p := &ps.Profile
	p.Name = o.Profile
	st, err := env.OpenStore(p.Store)
	if err != nil {
		return err
	}
	secret, fresh, err := clientSecret(ctx, env, st, o, p)
	if err != nil {
		return err
	}
	auth := newClient(env, p, secret).Resume(p.RedirectURI, ps.State, ps.Verifier)
	raw := o.ReturnedURL
	if raw == "-" { // from standard input, out of the process list
		if raw, err = termio.ReadLine(ctx, env.In, io.Discard); err != nil {
			return fmt.Errorf("no returned URL on standard input: %w", err)
		}
	}
	res, err := auth.RedeemReturnedURL(ctx, raw)
	if err != nil {
		return withHint(err, p) // keep the pending sign-in: a corrected URL may follow
	}
	os.Remove(path) // the code is spent
	return keepLink(ctx, env, newUI(env, false), st, p, res, secret, fresh, o.Public)
}
