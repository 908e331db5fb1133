package cli_test

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestLinkPasteOnTerminal pastes a returned URL longer than the kernel's
// canonical-mode line limit (4,095 bytes on Linux) into link on a real
// pseudo-terminal, as a person would.
func TestLinkPasteOnTerminal(t *testing.T) {
	h := newHarness(t)
	transcript, err := h.signInOnTerminal(t, "link", "--no-browser", "--client-id", testClientID)
	if err != nil {
		t.Fatalf("link on a terminal: %v\n%s", err, transcript)
	}
	if !strings.Contains(transcript, "Linked adele") {
		t.Errorf("no confirmation:\n%s", transcript)
	}
}

// signInOnTerminal runs the binary on a pseudo-terminal with the person at
// it: it waits for the sign-in link, signs in, and pastes the returned URL
// (padded past the kernel's 4,095-byte line limit, in bracketed-paste
// markers). It returns the transcript and how the program ended.
func (h *harness) signInOnTerminal(t *testing.T, args ...string) (string, error) {
	t.Helper()
	term := h.onTerminal(t, args...)
	term.waitFor("press Enter")
	returned := h.signIn(term.linkLine()) + "&session_state=" + strings.Repeat("x", 5000)
	if len(returned) < 6000 {
		t.Fatalf("returned URL only %d bytes", len(returned))
	}
	term.typeLine("\x1b[200~" + returned + "\x1b[201~")
	term.wait()
	return term.transcript(), term.err
}

// TestLinkCtrlC cancels a sign-in at the paste prompt: exit 130 (128 +
// SIGINT, as shells report it), a message that nothing changed, and no
// tokens stored.
func TestLinkCtrlC(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "link", "--no-browser", "--client-id", testClientID)
	cmd.Env = h.env
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	sc := bufio.NewScanner(tty)
	var transcript strings.Builder
	for sc.Scan() {
		transcript.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "press Enter") {
			break
		}
	}
	tty.Write([]byte{3}) // Ctrl-C: the terminal sends SIGINT
	for sc.Scan() {
		transcript.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, transcript.String())
	}
	if !strings.Contains(transcript.String(), "interrupted: nothing was changed") {
		t.Errorf("transcript:\n%s", transcript.String())
	}
	if out, _ := exec.Command("secret-tool", "lookup", "service", "ms365auth", "username", "default").Output(); len(out) > 0 {
		t.Errorf("tokens were stored by a cancelled link")
	}
}

// TestPastedCodeNotEchoedToARedirectedStderr: stdin is a terminal but
// stderr goes elsewhere (a pipe, a log file): what is typed must not land
// there.
func TestPastedCodeNotEchoedToARedirectedStderr(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	cmd := exec.CommandContext(ctx, binary, "link", "--no-browser", "--client-id", testClientID)
	cmd.Env = h.env
	cmd.Stdin, cmd.Stdout = tty, tty
	withControllingTerminal(t, cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, ptmx)
	var logged strings.Builder
	sc := bufio.NewScanner(stderr)
	sc.Buffer(nil, 1<<20)
	var returned string
	for sc.Scan() {
		logged.WriteString(sc.Text() + "\n")
		if isSignInLink(sc.Text()) {
			returned = h.signIn(sc.Text())
			ptmx.Write([]byte(returned + "\r"))
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("link: %v\n%s", err, logged.String())
	}
	code := returned[strings.Index(returned, "code=")+5:][:40]
	if strings.Contains(logged.String(), code) {
		t.Errorf("the pasted code was echoed into the redirected stderr")
	}
}
