package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// Browser opens a URL for the person.
type Browser interface {
	Open(url string) error
}

// ui prints messages for the person on stderr, labelled in the sandbox.
type ui struct {
	w       io.Writer
	prefix  string
	style   termio.Styler
	sandbox bool
}

func (u ui) say(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintln(u.w, u.prefix+line)
	}
}

// Write lets a flow's dialogue speak through u: each write is one
// message of whole lines, which are labelled like u's own.
func (u ui) Write(b []byte) (int, error) {
	u.say("%s", strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func newUI(env *Env, sandbox bool) ui {
	u := ui{w: env.Err}
	if f, ok := env.Err.(*os.File); ok {
		u.style = termio.NewStyler(f, env.Getenv)
	}
	if sandbox {
		u.prefix, u.sandbox = "[sandbox] ", true
	}
	return u
}

// withoutPasting says how to sign in p when pasting a URL cannot work:
// with a device code, or in the sandbox, by letting it play the browser.
func withoutPasting(env *Env, p *profile.Profile) string {
	if p.Sandbox {
		return "run " + env.account().LinkCommand(p, p.Method) + " on a terminal and press Enter on an empty line: the sandbox plays the browser"
	}
	return "sign in with a code instead: " + env.account().LinkCommand(p, profile.MethodDevice)
}

// defaultAltTimeout bounds the wait for the browser's callback.
const defaultAltTimeout = 5 * time.Minute

const timeoutUsage = "how long to wait for the browser (default 5m) or the device code sign-in (default: until the code expires)"

// signInOptions are what a person may choose about a sign-in.
type signInOptions struct {
	NoBrowser bool
	Timeout   time.Duration // 0: the method's default
	LoginHint string        // the account to pre-fill, e.g. on reauth
	Claims    string        // a claims request answering a claims challenge
}

// signIn runs the profile's sign-in method.
func signIn(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, o signInOptions) (*flow.Result, error) {
	switch p.Method {
	case profile.MethodAlt:
		if o.Timeout == 0 {
			o.Timeout = defaultAltTimeout
		}
		res, err := signInAlt(ctx, env, u, p, client, o)
		return res, env.account().WithHint(err, p)
	case profile.MethodDevice:
		return signInDevice(ctx, env, u, p, client, o.Timeout, o.Claims)
	default:
		return signInPaste(ctx, env, u, p, client, o)
	}
}

// signInPaste runs the primary method: print and open the link, then
// read back the URL the browser landed on.
func signInPaste(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, o signInOptions) (*flow.Result, error) {
	auth, err := client.NewAuthorization(p.RedirectURI, flow.Options{LoginHint: o.LoginHint, Claims: o.Claims})
	if err != nil {
		return nil, err
	}
	showLink(env, u, auth.URL, false, o.NoBrowser, "open the link above on any device, or "+withoutPasting(env, p))
	code, err := pasteDialogue(env, u, p, nil).Code(ctx, auth)
	if errors.Is(err, flow.ErrNothingPasted) {
		return nil, fmt.Errorf("%w; or %s", err, withoutPasting(env, p))
	}
	if err != nil {
		return nil, env.account().WithHint(err, p)
	}
	res, err := auth.Redeem(ctx, code)
	return res, env.account().WithHint(err, p)
}

func newClient(env *Env, p *profile.Profile, secret string) flow.Client {
	return env.account().Client(p, secret)
}

// showLink prints the sign-in link and opens it in a browser. thisMachine
// says the link works only in a browser on this machine (a loopback
// redirect: the listener, the sandbox's stand-in). When no browser opens,
// ifNoBrowser says what to do instead. It reports whether one opened.
func showLink(env *Env, u ui, link string, thisMachine, noBrowser bool, ifNoBrowser string) bool {
	where := ""
	if thisMachine {
		where = " on this machine"
	}
	u.say("Open this link in a browser%s, sign in and accept:", where)
	fmt.Fprintln(env.Err, link) // alone on its line, unprefixed, for copying
	if noBrowser {
		return false
	}
	if err := env.Browser.Open(link); err != nil {
		u.say("Could not open a browser%s: %s.", browserFailure(err), ifNoBrowser)
		return false
	}
	u.say("Opened it in your browser.")
	return true
}

// browserFailure says why no browser opened, when the reason means
// something to a person: an opener's exit status ("exit status 3") does not.
func browserFailure(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ""
	}
	return " (" + err.Error() + ")"
}

// readReturnedURL reads the URL from a terminal (without the kernel's line
// length limit: Entra codes run to ~1,500 characters) or one line of
// standard input.
func readReturnedURL(ctx context.Context, env *Env, p *profile.Profile) (string, error) {
	line, err := termio.ReadLine(ctx, env.In, terminalEcho(env))
	if errors.Is(err, io.EOF) {
		return "", fmt.Errorf("no returned URL was given on standard input: run link on a terminal, pipe the URL in, split the sign-in with --print-link and --returned-url, or %s", withoutPasting(env, p))
	}
	if err != nil {
		return "", err
	}
	return line, nil
}

// terminalEcho is where typed characters are echoed: stderr when it is the
// terminal, else nowhere, so that a pasted code never lands in a log file
// that stderr was redirected to.
func terminalEcho(env *Env) io.Writer {
	if f, ok := env.Err.(*os.File); ok && isTerminal(f) {
		return f
	}
	return io.Discard
}
