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

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/interrupt"
	"github.com/ms365auth/ms365auth/pkg/opener"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/servertext"
	"github.com/ms365auth/ms365auth/pkg/statedir"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// Exit codes, stable for scripts.
const (
	ExitOK     = 0
	ExitError  = 1
	ExitSignIn = 3 // a person must sign in interactively
)

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

	args     []string         // the command line, set by Run
	accounts *account.Service // built from the fields above on first use
}

// account is the use-case layer for linked profiles, with its dependencies
// taken from env once: settings, stores, lock, clock, HTTP client,
// environment and state directory.
func (env *Env) account() *account.Service {
	if env.accounts != nil {
		return env.accounts
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	stateDir, _ := statedir.Dir(getenv) // "" makes pending sign-ins say where to look
	settings := profile.NewSettings(getenv)
	settings.Warn = func(msg string) { fmt.Fprintln(env.Err, "warning: "+msg) }
	env.accounts = account.New(account.Deps{
		Settings:   settings,
		OpenStore:  env.OpenStore,
		Lock:       account.FileLock(getenv),
		Now:        now,
		HTTPClient: env.HTTPClient,
		Getenv:     getenv,
		StateDir:   stateDir,
	})
	return env.accounts
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
		st, err := account.OpenStore(name, env.Getenv)
		if f, ok := st.(*store.File); ok {
			f.Warn = func(msg string) { fmt.Fprintln(env.Err, "warning: "+msg) }
		}
		return st, err
	}
	return env
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
	ran, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return int(se)
	}
	interrupted := ctx.Err() != nil && errors.Is(err, ctx.Err())
	if interrupted {
		fmt.Fprintln(env.Err, "interrupted: nothing was changed")
	}
	// Ended by a signal: the shell's status for it (130 for Ctrl-C).
	if sig := interrupt.SignalOf(ctx); sig != nil {
		if !interrupted {
			printError(env, err)
		}
		return interrupt.ExitStatus(sig)
	}
	if interrupted {
		return ExitError
	}
	printError(env, account.KeyringWayOut(err, fileStoreCommand(env, ran, err)))
	return exitCode(err)
}

// fileStoreCommand is the command that keeps the tokens in files instead
// of a keyring that failed command ran: the same link with --store file,
// or linking the profile again that way.
func fileStoreCommand(env *Env, ran *cobra.Command, err error) string {
	var ue *store.UnavailableError
	if !errors.As(err, &ue) {
		return ""
	}
	if ran == nil || ran.Name() == "link" {
		return env.commandLine() + " --store " + account.StoreFile
	}
	if p, err := env.account().Profile(profileName(ran)); err == nil {
		return env.account().FileStoreLinkCommand(p)
	}
	return ""
}

// printError prints err as the command's error message.
func printError(env *Env, err error) {
	// The last line of defence for server text that reached an error
	// unchecked (the sources clean their own): no control characters, no
	// token-like strings.
	fmt.Fprintln(env.Err, "error: "+servertext.Redact(servertext.Lines(strings.TrimSpace(err.Error()))))
}

func exitCode(err error) int {
	var sr *account.SignInRequiredError
	if errors.As(err, &sr) {
		return ExitSignIn
	}
	return ExitError
}

func profileFlag(name string) string { return account.ProfileFlag(name) }

func isTerminal(f *os.File) bool { return f != nil && termio.IsTerminal(f) }
