package cli_test

// Helpers for the real-browser tests: a headless Chromium driven with
// chromedp, a BROWSER command that hands the sign-in link to the test, and
// the CLI on a pseudo-terminal.
//
// Screenshots: every page the browser shows is captured; when a test fails
// they are written as PNG files (with the page's URL and text beside them)
// to $MS365AUTH_ARTIFACTS/<test name>/, or to a fresh directory under the
// system's temporary directory whose path the test log prints.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/creack/pty"
)

const chromiumPath = "/usr/bin/chromium"

// microsoftHost is where the nativeclient and MFA redirect URIs live. It
// cannot be reached from here: the browser's requests to it are answered
// locally, so the address bar shows the real URL as it would for a person.
const microsoftHost = "https://login.microsoftonline.com/"

// stepTimeout bounds each wait on the browser or the CLI. It is a deadline
// for a hang, not a speed assertion.
const stepTimeout = 30 * time.Second

// requireChromium skips the test when Chromium is not installed, or fails
// it when the CI environment variable is set.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := fmt.Sprintf("%s is not installed: apt-get install -y --no-install-recommends chromium", chromiumPath)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// browser is one headless Chromium with a fresh profile and one tab.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu    sync.Mutex
	shots []shot
}

// shot is one page as the browser showed it.
type shot struct {
	name, url, text string
	png             []byte
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	requireChromium(t)
	profile := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Keep Chromium away from the tests' private Secret Service.
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1000, 900),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	// Cleanups run last-registered first: the browser is gone before
	// t.TempDir removes its profile.
	t.Cleanup(cancelAlloc)
	t.Cleanup(func() { cancelTab() })
	b := &browser{t: t, ctx: ctx}
	// The first run starts the browser and ties its life to the context it
	// gets, so it gets the test-long one, not a step deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	start, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := b.answerMicrosoftLocally(start); err != nil {
		t.Fatalf("intercepting %s: %v", microsoftHost, err)
	}
	t.Cleanup(b.saveShotsOnFailure)
	return b
}

// answerMicrosoftLocally answers every request to microsoftHost with the
// blank page Microsoft shows there, so the navigation completes and the
// address bar keeps the URL.
func (b *browser) answerMicrosoftLocally(ctx context.Context) error {
	paused := chromedp.Events(b.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return // the browser is closing
			}
			chromedp.Call(b.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID:       ev.RequestID,
				ResponseCode:    200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
				Body:            []byte("<!DOCTYPE html><html><head><title></title></head><body></body></html>"),
			})
		}
	}()
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: microsoftHost + "*"}},
	})
	return err
}

// do runs browser steps with a deadline.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// open navigates to link, as a browser started with it does, and takes a
// screenshot of the page it lands on.
func (b *browser) open(link, shotName string) {
	b.t.Helper()
	b.do("opening the sign-in link", chromedp.Navigate(link))
	b.snap(shotName)
}

// click clicks the element with the given id, waits for the page it leads
// to, and takes a screenshot of it.
func (b *browser) click(id, shotName string) {
	b.t.Helper()
	b.mustHave(id)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID(id)))); err != nil {
		b.t.Fatalf("browser: clicking #%s: %v", id, err)
	}
	b.snap(shotName)
}

// fill types text into the input with the given id, key by key.
func (b *browser) fill(id, text string) {
	b.t.Helper()
	b.mustHave(id)
	// A person replaces what is there (a login_hint pre-fills the username).
	b.do("typing into #"+id, chromedp.Clear(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text))
}

// mustHave fails the test at once when the loaded page has no element with
// the given id: the sign-in went somewhere else, and waiting would only hide
// where.
func (b *browser) mustHave(id string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById(`+strconv.Quote(id)+`) !== null`))
	if err != nil {
		b.t.Fatalf("browser: looking for #%s: %v", id, err)
	}
	if !found {
		url, _ := chromedp.Run(ctx, chromedp.Location())
		b.t.Fatalf("browser: no #%s on the page at %s:\n%s", id, codeParam.ReplaceAllString(url, "${1}code=…"), b.text())
	}
}

// signIn fills the sign-in form and submits it.
func (b *browser) signIn(username, password, shotName string) {
	b.t.Helper()
	b.fill("username", username)
	b.fill("password", password)
	b.click("next", shotName)
}

// addressBar is the URL the address bar shows: what a person copies.
func (b *browser) addressBar() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	h, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil || h.CurrentIndex < 0 || int(h.CurrentIndex) >= len(h.Entries) {
		b.t.Fatalf("browser: reading the address bar: %v", err)
	}
	return h.Entries[h.CurrentIndex].URL
}

// text is the visible text of the page.
func (b *browser) text() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		b.t.Fatalf("browser: reading the page text: %v", err)
	}
	return s
}

// permissions lists the data-scope of each permission on the consent page.
func (b *browser) permissions() []string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#permissions li")).map(li => li.dataset.scope)`))
	if err != nil {
		b.t.Fatalf("browser: reading the permissions: %v", err)
	}
	return p
}

// snap keeps a screenshot of the current page for the artifacts.
func (b *browser) snap(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s := shot{name: name}
	var err error
	if s.png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		b.t.Errorf("browser: screenshot of %s: %v", name, err)
	}
	s.url, _ = chromedp.Run(ctx, chromedp.Location())
	s.text, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.mu.Lock()
	b.shots = append(b.shots, s)
	b.mu.Unlock()
}

var (
	unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	codeParam  = regexp.MustCompile(`([?&])code=[^&#]*`) // kept out of failure messages
)

// saveShotsOnFailure writes the screenshots, plus one of the page shown at
// the moment of failure, when the test failed.
func (b *browser) saveShotsOnFailure() {
	if !b.t.Failed() {
		return
	}
	b.snapQuietly("at-failure")
	dir := os.Getenv("MS365AUTH_ARTIFACTS")
	var err error
	if dir != "" {
		dir = filepath.Join(dir, unsafeName.ReplaceAllString(b.t.Name(), "_"))
		err = os.MkdirAll(dir, 0o755)
	} else {
		dir, err = os.MkdirTemp("", "ms365auth-browser-")
	}
	if err != nil {
		b.t.Logf("could not keep the screenshots: %v", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, s := range b.shots {
		base := filepath.Join(dir, fmt.Sprintf("%02d-%s", i+1, unsafeName.ReplaceAllString(s.name, "_")))
		if len(s.png) > 0 {
			os.WriteFile(base+".png", s.png, 0o644)
		}
		os.WriteFile(base+".txt", []byte(s.url+"\n\n"+s.text+"\n"), 0o644)
	}
	b.t.Logf("screenshots of the %d pages the browser showed: %s", len(b.shots), dir)
}

// snapQuietly is snap without failing the test again: the browser may be
// what broke.
func (b *browser) snapQuietly(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return
	}
	url, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.mu.Lock()
	b.shots = append(b.shots, shot{name: name, url: url, text: text, png: png})
	b.mu.Unlock()
}

// browserHook sets BROWSER to a script that hands the URL it is started
// with to the test through a FIFO, so the CLI's real opening path runs.
// The returned channel yields each URL.
func (h *harness) browserHook(t *testing.T) <-chan string {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "opened")
	mkfifo(t, fifo)
	script := filepath.Join(dir, "browser")
	body := "#!/bin/sh\n# Stands in for a browser: pass the URL to the test.\nprintf '%s\\n' \"$1\" > '" + fifo + "'\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	h.env = append(h.env, "BROWSER="+script+" %s")

	// Holding the FIFO open for reading and writing means the script's open
	// never waits and reads never see EOF; closing it ends the reader (Go
	// polls FIFOs, so Close interrupts a pending Read).
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	urls := make(chan string, 4)
	go func() {
		defer close(urls)
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			select {
			case urls <- sc.Text():
			default: // nobody is waiting for more
			}
		}
	}()
	return urls
}

// opened waits for the URL the CLI handed to BROWSER.
func opened(t *testing.T, urls <-chan string) string {
	t.Helper()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatal("the BROWSER hook stopped")
		}
		return u
	case <-time.After(stepTimeout):
		t.Fatal("the CLI never started BROWSER")
	}
	return ""
}

// terminal is the CLI running on a pseudo-terminal, as a person runs it.
type terminal struct {
	t   *testing.T
	tty *os.File
	cmd *exec.Cmd

	mu      sync.Mutex
	out     strings.Builder
	changed chan struct{} // signalled (without blocking) on new output or EOF
	eof     bool
	drained chan struct{} // closed at EOF: all output has been read

	exited chan struct{}
	err    error

	// exitedWith, when set, is told the exit code wait found.
	exitedWith func(code int)
}

// onTerminal starts the binary with args on a new pseudo-terminal.
func (h *harness) onTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = h.env
	term := startTerminal(t, cmd, cancel)
	env := h.env
	term.exitedWith = func(code int) {
		h.suggestionsOf(args, env, result{code: code, stderr: term.transcript()}, nil)
	}
	return term
}

// startTerminal starts cmd on a new pseudo-terminal; cancel (which must
// end cmd) runs when the test ends.
func startTerminal(t *testing.T, cmd *exec.Cmd, cancel func()) *terminal {
	t.Helper()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, tty: tty, cmd: cmd, changed: make(chan struct{}, 1), drained: make(chan struct{}), exited: make(chan struct{})}
	t.Cleanup(func() {
		cancel()
		<-term.exited
		tty.Close()
	})
	go func() {
		defer close(term.drained)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			if err != nil {
				term.eof = true // EIO once the program has closed the terminal
			}
			term.mu.Unlock()
			select {
			case term.changed <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		term.err = cmd.Wait()
		close(term.exited)
	}()
	return term
}

// transcript is everything the program wrote to the terminal, with the
// terminal's CRLF line ends made plain.
func (c *terminal) transcript() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.ReplaceAll(c.out.String(), "\r\n", "\n")
}

// waitFor waits until the transcript contains want.
func (c *terminal) waitFor(want string) {
	c.t.Helper()
	deadline := time.After(stepTimeout)
	for {
		c.mu.Lock()
		found, eof := strings.Contains(strings.ReplaceAll(c.out.String(), "\r\n", "\n"), want), c.eof
		c.mu.Unlock()
		switch {
		case found:
			return
		case eof:
			c.t.Fatalf("the program closed the terminal without printing %q:\n%s", want, c.transcript())
		}
		select {
		case <-c.changed:
		case <-deadline:
			c.t.Fatalf("no %q on the terminal:\n%s", want, c.transcript())
		}
	}
}

// typeLine types text and Enter, as a person pasting does.
func (c *terminal) typeLine(text string) {
	c.t.Helper()
	if _, err := c.tty.Write([]byte(text + "\r")); err != nil {
		c.t.Fatalf("typing on the terminal: %v", err)
	}
}

// wait waits for the program to exit by itself, and for the last of its
// output, and returns its exit code.
func (c *terminal) wait() int {
	c.t.Helper()
	deadline := time.After(stepTimeout)
	for _, ch := range []chan struct{}{c.exited, c.drained} {
		select {
		case <-ch:
		case <-deadline:
			c.t.Fatalf("the program did not exit:\n%s", c.transcript())
		}
	}
	var ee *exec.ExitError
	code := 0
	switch {
	case c.err == nil:
	case errors.As(c.err, &ee):
		code = ee.ExitCode()
	default:
		c.t.Fatalf("running the program: %v", c.err)
	}
	if c.exitedWith != nil {
		c.exitedWith(code)
	}
	return code
}

// linkLine is the sign-in link the CLI printed alone on its line.
func (c *terminal) linkLine() string {
	c.t.Helper()
	for _, line := range strings.Split(c.transcript(), "\n") {
		if isSignInLink(line) {
			return line
		}
	}
	c.t.Fatalf("no sign-in link on the terminal:\n%s", c.transcript())
	return ""
}
