// Package cli holds the ms365auth commands: flags become options, options
// are validated, then a run function composes the sign-in flows, the store
// and the profile settings, and prints. It is the only package that knows
// about cobra, and the one place that turns errors into exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/opener"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/servertext"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// Exit codes, stable for scripts.
const (
	ExitOK     = 0
	ExitError  = 1
	ExitSignIn = 3 // a person must sign in interactively
)

// SignInRequiredError means only a person signing in can fix things.
type SignInRequiredError struct {
	Profile string
	Reason  string
	Run     string // the command to run; "" means reauth
	Fix     string // what else the person must do, "" if signing in is all
	Claims  string // a claims challenge the sign-in must carry
}

func (e *SignInRequiredError) Error() string {
	msg := fmt.Sprintf("profile %q needs an interactive sign-in (%s); run: %s", e.Profile, e.Reason, e.command())
	if e.Fix != "" {
		msg += "\nfix: " + e.Fix
	}
	return msg
}

// command is the command that signs the profile in: Run, or reauth, with
// the claims challenge when there is one and Run does not carry it.
func (e *SignInRequiredError) command() string {
	run := e.Run
	if run == "" {
		run = "ms365auth reauth" + profileFlag(e.Profile)
	}
	if e.Claims != "" && !strings.Contains(run, " --claims ") {
		run += " --claims " + entra.EncodeClaims(e.Claims)
	}
	return run
}

func notLinked(name string) *SignInRequiredError {
	run := "ms365auth link" + profileFlag(name) + " --client-id <application ID>"
	if name == profile.SandboxName {
		run = "ms365auth link --sandbox"
	}
	return &SignInRequiredError{Profile: name, Reason: "it is not linked", Run: run}
}

// silentExit carries an exit code whose message was already printed.
type silentExit int

func (e silentExit) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// IO is where a command reads and writes; tests replace it.
type IO struct {
	In  *os.File
	Out io.Writer
	Err io.Writer
}

// Env is everything a command depends on from the outside world.
type Env struct {
	IO
	Getenv     func(string) string
	Now        func() time.Time
	HTTPClient *http.Client
	Browser    Browser
	// OpenStore returns the store for a profile's settings.
	OpenStore func(storeName string) (store.Store, error)

	args []string // the command line, set by Run
}

// DefaultEnv is the real process environment.
func DefaultEnv() *Env {
	env := &Env{
		IO:         IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr},
		Getenv:     os.Getenv,
		Now:        time.Now,
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		Browser:    opener.System{Getenv: os.Getenv},
	}
	// env.Getenv, not os.Getenv: the passphrase is no longer in the
	// process environment (withoutSecretEnv).
	env.OpenStore = func(name string) (store.Store, error) {
		st, err := openStore(name, env.Getenv)
		if f, ok := st.(*store.File); ok {
			f.Warn = func(msg string) { fmt.Fprintln(env.Err, "warning: "+msg) }
		}
		return st, err
	}
	return env
}

// openStore opens a store by name; "" is the keyring.
func openStore(name string, getenv func(string) string) (store.Store, error) {
	switch name {
	case "", storeKeyring:
		return store.NewKeyring(), nil
	case storeFile:
		return store.NewFile(getenv)
	}
	return nil, unknownStore(name)
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context) int {
	return Run(ctx, withoutSecretEnv(DefaultEnv()), os.Args[1:])
}

// withoutSecretEnv takes MS365AUTH_CLIENT_SECRET and the file store's
// passphrase out of the process environment, so that no child process (the
// browser, --notify-cmd) inherits them; env.Getenv still returns them to
// the command that reads them.
func withoutSecretEnv(env *Env) *Env {
	for _, key := range []string{"MS365AUTH_CLIENT_SECRET", store.EnvPassphrase} {
		secret, ok := os.LookupEnv(key)
		if !ok {
			continue
		}
		os.Unsetenv(key)
		getenv := env.Getenv
		env.Getenv = func(k string) string {
			if k == key {
				return secret
			}
			return getenv(k)
		}
	}
	return env
}

// Run executes args with env and maps the outcome to an exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	env.args = args
	root := NewRootCmd(env)
	root.SetArgs(args)
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return int(se)
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		fmt.Fprintln(env.Err, "interrupted: nothing was changed")
		return ExitError
	}
	printError(env, err)
	return exitCode(err)
}

// printError prints err as the command's error message.
func printError(env *Env, err error) {
	// The last line of defence for server text that reached an error
	// unchecked (the sources clean their own): no control characters, no
	// token-like strings.
	fmt.Fprintln(env.Err, "error: "+servertext.Redact(servertext.Lines(strings.TrimSpace(err.Error()))))
}

func exitCode(err error) int {
	var sr *SignInRequiredError
	if errors.As(err, &sr) {
		return ExitSignIn
	}
	return ExitError
}

// hinted attaches the fix for an Entra error to it, as a second line.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + "\nfix: " + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// withHint adds the AADSTS table's fix, filled in for profile p (see
// hintContext, which reads the settings: only for an error with a fix).
func withHint(err error, p *profile.Profile) error {
	var ee *entra.Error
	if err == nil || !errors.As(err, &ee) {
		return err
	}
	var rue *entra.ReturnedURLError
	if errors.As(err, &rue) {
		return err // already says what to do
	}
	if h := entra.ErrorFix(ee, hintContext(p)); h != "" {
		return &hinted{err: err, hint: h}
	}
	return err
}

func profileFlag(name string) string {
	if name == "" || name == "default" {
		return ""
	}
	return " --profile " + name
}

func isTerminal(f *os.File) bool { return f != nil && termio.IsTerminal(f) }
