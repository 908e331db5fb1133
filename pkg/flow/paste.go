package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// pasteAttempts bounds how often a person may paste: a slip of the
// clipboard must not cost a new sign-in (with MFA again), and a loop must
// end.
const pasteAttempts = 3

// ErrNothingPasted is an empty line where the returned URL was expected,
// with no one to fill it in (Paste.OnEmpty).
var ErrNothingPasted = errors.New("nothing was pasted: after signing in, copy the whole URL from the address bar of the page you land on; if the browser showed an error page instead, its AADSTS code is explained in https://github.com/ms365auth/ms365auth/blob/main/docs/troubleshooting.md")

// Paste is the dialogue of the primary sign-in method: it reads back the
// URL the browser landed on and checks it against the sign-in in progress
// (entra.ParseReturnedURL).
//
// With a person there (Person), it first asks for the URL, and a paste
// that another paste can fix (not a URL, the sign-in link itself, cut
// short, from another attempt) is explained and asked for again, up to
// three times; giving up names StartOver. A dead end (Entra's wrongplace
// page) or Entra's own error cannot be fixed by pasting and ends the
// dialogue at once. Without a person, one line is read and judged.
type Paste struct {
	// ReadLine reads one line; its errors (io.EOF, a cancelled context)
	// end the dialogue unchanged.
	ReadLine func(ctx context.Context) (string, error)
	// Out is where the person is spoken to. Each message is one write of
	// whole lines.
	Out io.Writer
	// Person says someone at a terminal answers, who can paste again.
	Person bool
	// StartOver is the command that starts the sign-in again.
	StartOver string
	// OnEmpty answers an empty line, e.g. with a browser's returned URL
	// when a stand-in plays the browser; nil ends the dialogue with
	// ErrNothingPasted.
	OnEmpty func() (string, error)
}

// Code returns the authorization code of auth's sign-in from the returned
// URL.
func (p Paste) Code(ctx context.Context, auth *Authorization) (string, error) {
	if p.Person {
		p.say("When the browser shows a blank page, copy the whole URL from its address bar,\npaste it here and press Enter:")
	}
	for attempt := 1; ; attempt++ {
		code, err := p.read(ctx, auth)
		if err == nil || !p.Person || !fixableByPasting(err) {
			return code, err
		}
		if attempt == pasteAttempts {
			return "", fmt.Errorf("%w\nno usable URL after %d tries; start the sign-in again with: %s", err, pasteAttempts, p.StartOver)
		}
		p.say(err.Error())
		p.say(fmt.Sprintf("Paste the URL again (try %d of %d; Ctrl-C stops):", attempt+1, pasteAttempts))
	}
}

func (p Paste) read(ctx context.Context, auth *Authorization) (string, error) {
	raw, err := p.ReadLine(ctx)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(raw) == "" {
		if p.OnEmpty == nil {
			return "", ErrNothingPasted
		}
		if raw, err = p.OnEmpty(); err != nil {
			return "", err
		}
	}
	code, err := entra.ParseReturnedURL(raw, auth.RedirectURI, auth.State)
	var rue *entra.ReturnedURLError
	if errors.As(err, &rue) {
		rue.StartOver = p.StartOver // its fix names the command this sign-in began with
	}
	return code, err
}

func (p Paste) say(msg string) { io.WriteString(p.Out, msg+"\n") }

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
