package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
)

// pasteAttempts bounds how often a person at a terminal may paste: a slip
// of the clipboard must not cost a new sign-in (with MFA again), and a
// loop must end.
const pasteAttempts = 3

// errNothingPasted is an empty line where the returned URL was expected.
var errNothingPasted = errors.New("nothing was pasted: after signing in, copy the whole URL from the address bar of the page you land on; if the browser showed an error page instead, its AADSTS code is explained in https://github.com/ms365auth/ms365auth/blob/main/docs/troubleshooting.md")

// pasteDialogue reads the URL the browser landed on and checks it against
// the sign-in in progress. On a terminal, a paste that another paste can
// fix (not a URL, the sign-in link itself, cut short, from another
// attempt) is explained and asked for again, up to pasteAttempts times;
// giving up names the command that starts over. Elsewhere one line is
// read. onEmpty answers an empty line (the sandbox plays the browser);
// nil ends the dialogue with errNothingPasted.
type pasteDialogue struct {
	env     *Env
	u       ui
	profile string
	onEmpty func() (string, error)
}

// code returns the authorization code from the returned URL.
func (d pasteDialogue) code(ctx context.Context, auth *flow.Authorization) (string, error) {
	again := isTerminal(d.env.In)
	for attempt := 1; ; attempt++ {
		code, err := d.read(ctx, auth, attempt)
		if err == nil || !again || !fixableByPasting(err) {
			return code, err
		}
		if attempt == pasteAttempts {
			return "", fmt.Errorf("%w\nno usable URL after %d tries; start the sign-in again with: %s", err, pasteAttempts, d.env.commandLine())
		}
		d.u.say("%s", err)
		d.u.say("Paste the URL again (try %d of %d; Ctrl-C stops):", attempt+1, pasteAttempts)
	}
}

func (d pasteDialogue) read(ctx context.Context, auth *flow.Authorization, attempt int) (string, error) {
	raw, err := readReturnedURL(ctx, d.env, d.u, d.profile, attempt == 1)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(raw) == "" {
		if d.onEmpty == nil {
			return "", errNothingPasted
		}
		if raw, err = d.onEmpty(); err != nil {
			return "", err
		}
	}
	return entra.ParseReturnedURL(raw, auth.RedirectURI, auth.State)
}

// fixableByPasting says whether pasting something else can still finish
// this sign-in. A dead end (wrongplace) or an error from Entra cannot; an
// empty line is how a person with nothing to paste gives up.
func fixableByPasting(err error) bool {
	var rue *entra.ReturnedURLError
	if !errors.As(err, &rue) {
		return false
	}
	switch rue.Problem {
	case entra.NotAURL, entra.AuthorizeURL, entra.WrongRedirect, entra.StateMismatch, entra.MissingCode:
		return true
	}
	return false
}

// commandLine is the command this process runs, quoted for a shell, for
// messages that say how to start over. Secrets are never flag values.
func (env *Env) commandLine() string {
	words := []string{"ms365auth"}
	for _, a := range env.args {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
