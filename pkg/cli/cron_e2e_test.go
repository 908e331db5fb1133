//go:build linux

package cli_test

// The crontabs of docs/recipes.md, run as cron runs them: the variables the
// crontab sets over cron's own (HOME, LOGNAME, SHELL, PATH=/usr/bin:/bin)
// and nothing else, /bin/sh -c, no terminal, standard input from /dev/null.
// And its systemd user service, run as systemd would.

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// crontab is a crontab as cron reads it: variables, then jobs.
type crontab struct {
	env  []string // NAME=value lines
	jobs []string // the command of each job line
}

var (
	cronVarRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*=`)
	cronJobRE = regexp.MustCompile(`^(?:\S+\s+){5}(.+)$`)
)

func parseCrontab(t *testing.T, text string) crontab {
	t.Helper()
	var c crontab
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case cronVarRE.MatchString(line):
			name, value, _ := strings.Cut(line, "=")
			c.env = append(c.env, strings.TrimSpace(name)+"="+strings.TrimSpace(value))
		default:
			m := cronJobRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not a crontab line: %q", line)
			}
			// cron turns an unescaped % into a line break and feeds
			// what follows to the job's standard input.
			if strings.Contains(strings.ReplaceAll(m[1], `\%`, ""), "%") {
				t.Errorf("a job with %% does not run as written in cron: %q", m[1])
			}
			c.jobs = append(c.jobs, m[1])
		}
	}
	return c
}

// recipeCrontabs are the crontab blocks of docs/recipes.md.
func recipeCrontabs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "recipes.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range markdownCode(string(data), false) {
		if d.lang == "crontab" {
			out = append(out, d.text)
		}
	}
	return out
}

// TestCronRecipesRunAsCronWould runs the ms365auth job of each crontab in
// docs/recipes.md in cron's environment: with the keyring (found through
// the user bus at /run/user/UID/bus, as cron gives no bus address) or, where
// the crontab names a passphrase file, the encrypted file store. A working
// refresh prints nothing (cron mails any output) and exits 0; a revoked one
// exits 3 and the notification carries a message and a sign-in link that
// finish the sign-in; then the job works again.
func TestCronRecipesRunAsCronWould(t *testing.T) {
	tabs := recipeCrontabs(t)
	if len(tabs) < 3 {
		t.Fatalf("docs/recipes.md has %d crontab blocks; want the keyring one, the file store one and the phone one", len(tabs))
	}
	for _, text := range tabs {
		fileStore := strings.Contains(text, "MS365AUTH_STORE_PASSPHRASE_FILE=")
		phone := strings.Contains(text, "--device-wait")
		name := map[bool]string{false: "keyring", true: "file store"}[fileStore]
		if phone {
			name = "phone"
		}
		t.Run(name, func(t *testing.T) {
			s := keyringtest.Require(t)
			var wrap []string
			if !fileStore {
				wrap = userBusAt(t, filepath.Join(s.Dir, "run"))
			}
			h := newHarness(t)
			home := t.TempDir()
			// The recipes' user is adele, at home in /home/adele.
			adele := strings.NewReplacer("/home/adele", home)
			tab := parseCrontab(t, adele.Replace(text))

			// The crontab must find ms365auth wherever it was installed:
			// go install puts it in ~/go/bin, the README's archive install
			// in ~/.local/bin (each crontab gets one of them; /usr/bin, the
			// packages' place, is cron's own PATH). The notification's mail
			// command is a stand-in that keeps what it was given.
			bin := filepath.Join(home, "go", "bin")
			if fileStore {
				bin = filepath.Join(home, ".local", "bin")
			}
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(binary, filepath.Join(bin, "ms365auth")); err != nil {
				t.Fatal(err)
			}
			sent := filepath.Join(home, "mail.sent")
			mail := "#!/bin/sh\n{ printf '%s\\n' \"$*\"; cat; } > '" + sent + "'\n"
			if err := os.WriteFile(filepath.Join(bin, "mail"), []byte(mail), 0o755); err != nil {
				t.Fatal(err)
			}

			// The person's own shell: the default XDG directories under
			// HOME, which are the ones cron's jobs get.
			h.env = append(h.env, "HOME="+home,
				"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
				"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"))
			link := recipeCommand(t, "link")
			if fileStore {
				prepare := recipe(t, "## A server without a keyring: the file store", 0)
				if out, err := shell(home, prepare).CombinedOutput(); err != nil {
					t.Fatalf("%s\n%v: %s", prepare, err, out)
				}
				h.env = append(h.env, "MS365AUTH_STORE_PASSPHRASE_FILE="+envValue(tab.env, "MS365AUTH_STORE_PASSPHRASE_FILE"))
				link = storeFileLink(t)
			}
			if r := runDocCommand(t, h, link); r.code != 0 {
				t.Fatalf("%s\n  exit %d:\n%s", link, r.code, r.stderr)
			}

			env := append([]string{"HOME=" + home, "LOGNAME=adele", "SHELL=/bin/sh", "PATH=/usr/bin:/bin"}, tab.env...)
			job := ""
			for _, j := range tab.jobs {
				if strings.Contains(j, "ms365auth") {
					job = j
				}
			}
			if job == "" {
				t.Fatalf("the crontab runs no ms365auth job:\n%s", text)
			}
			cron := func() result { return runCron(t, env, wrap, job) }

			before := h.srv.Stats().Refreshes
			if r := cron(); r.code != 0 || r.all() != "" {
				t.Fatalf("%s\n  exit %d; cron would mail: %q", job, r.code, r.all())
			}
			if n := h.srv.Stats().Refreshes - before; n != 1 {
				t.Errorf("the job refreshed %d times, want 1", n)
			}
			if phone {
				// The notifier is curl; the phone reads what it posts.
				notes := curlStub(t, bin)
				allowDeviceCode(h)
				h.srv.RevokeRefreshTokens()
				done := startDetached(t, env, append(append([]string{}, wrap...), "/bin/sh", "-c", job))
				approveFromPhone(t, h, <-notes)
				if r := done(); r.code != 0 || r.all() != "" {
					t.Fatalf("%s\n  after the phone approved: exit %d; cron would mail: %q", job, r.code, r.all())
				}
				if r := cron(); r.code != 0 || r.all() != "" {
					t.Errorf("the next day: exit %d; cron would mail: %q", r.code, r.all())
				}
				return
			}

			h.srv.RevokeRefreshTokens()
			r := cron()
			if r.code != 3 || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
				!strings.Contains(r.stderr, "ms365auth reauth --profile work") {
				t.Fatalf("after a revocation: exit %d (want 3), stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			data, err := os.ReadFile(sent)
			if err != nil {
				t.Fatalf("the notification sent no mail: %v", err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(lines) != 3 || lines[0] != "-s ms365auth: sign-in needed adele@contoso.com" {
				t.Fatalf("the mail: want the subject and address, the message, the link; got:\n%s", data)
			}
			message, signInURL := lines[1], lines[2]
			_, run, ok := strings.Cut(message, "into: ")
			if !ok || run != "ms365auth link --profile work --returned-url -" || !isSignInLink(signInURL) {
				t.Fatalf("the mail does not say what to run with which link:\n%s", data)
			}

			// The person follows the mail at a terminal, then cron again.
			args := strings.Fields(strings.TrimPrefix(run, "ms365auth "))
			if r := h.run(h.signIn(signInURL)+"\n", args...); r.code != 0 {
				t.Fatalf("%s: exit %d:\n%s", run, r.code, r.stderr)
			}
			if r := cron(); r.code != 0 || r.all() != "" {
				t.Errorf("after the new sign-in: exit %d; cron would mail: %q", r.code, r.all())
			}
		})
	}
}

// storeFileLink is the file store recipe's link command.
func storeFileLink(t *testing.T) docCommand {
	t.Helper()
	for _, c := range docCommands(t, "docs/recipes.md", false) {
		if c.args[0] == "link" && c.has("--store") {
			return c
		}
	}
	t.Fatal("docs/recipes.md has no link --store command")
	return docCommand{}
}

// shell runs a recipe's shell lines in home.
func shell(home, script string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	cmd.Dir = home
	return cmd
}

// runCron runs a job as cron does: its environment alone, /bin/sh -c.
// wrap, if any, is the command the job runs under.
func runCron(t *testing.T, env, wrap []string, job string) result {
	t.Helper()
	return runDetached(t, env, append(append([]string{}, wrap...), "/bin/sh", "-c", job))
}

// runDetached runs argv with env alone, as a service manager does: in a
// session of its own without a terminal, standard input /dev/null.
func runDetached(t *testing.T, env, argv []string) result {
	t.Helper()
	return startDetached(t, env, argv)()
}

// startDetached starts argv as runDetached does; wait waits for it to end.
func startDetached(t *testing.T, env, argv []string) (wait func() result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("running %q: %v", argv, err)
	}
	return func() result {
		t.Helper()
		defer cancel()
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("running %q: %v", argv, err)
		}
		return result{code, out.String(), errb.String()}
	}
}

// curlStub puts in dir a curl that, instead of posting, hands its
// arguments to the test: each call's arrive on the channel.
func curlStub(t *testing.T, dir string) <-chan []string {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "posted")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	stub := "#!/bin/sh\n{ printf '%s\\n' \"$@\"; echo .; } > '" + fifo + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "curl"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	notes := make(chan []string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			return
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		notes <- strings.Split(strings.TrimSuffix(string(data), "\n.\n"), "\n")
	}()
	return notes
}

// approveFromPhone reads a recipe's notification (curl's arguments) as the
// person would on the phone: the title carries the code, and the person
// enters it at the address. No token may be in it.
func approveFromPhone(t *testing.T, h *harness, args []string) {
	t.Helper()
	all := strings.Join(args, "\n")
	m := regexp.MustCompile(`Microsoft 365 sign-in (\S+)`).FindStringSubmatch(all)
	if m == nil || m[1] == "needed" || !strings.Contains(all, h.srv.URL+"/devicelogin") {
		t.Fatalf("the notification carries no code and address:\n%s", all)
	}
	if rec, err := store.NewKeyring().Load("work"); err == nil && (strings.Contains(all, rec.RefreshToken) || strings.Contains(all, rec.AccessToken)) {
		t.Fatalf("the notification carries a token")
	}
	if err := h.srv.ApproveDevice(m[1]); err != nil {
		t.Fatal(err)
	}
}

// userBusAt returns a command prefix that runs a command in a mount
// namespace of its own where runDir, which holds a bus socket, is
// /run/user/UID: the systemd user bus, as a logged-in or lingering user
// has it. It skips the test where no mount namespace can be made.
func userBusAt(t *testing.T, runDir string) []string {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare (util-linux) to give the job a /run/user/UID/bus")
	}
	wrap := []string{unshare, "--mount"}
	if os.Getuid() != 0 {
		wrap = append(wrap, "--map-root-user")
	}
	wrap = append(wrap, "/bin/sh", "-c",
		`mount -t tmpfs tmpfs /run && mkdir -p /run/user/$(id -u) && mount --bind "$0" /run/user/$(id -u) && exec "$@"`, runDir)
	probe := exec.Command(wrap[0], append(wrap[1:], "/bin/sh", "-c", `test -S /run/user/$(id -u)/bus`)...)
	probe.Env = []string{"PATH=/usr/bin:/bin"}
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("cannot give the job a user bus at /run/user/UID/bus in a mount namespace (%v): %s", err, out)
	}
	return wrap
}

// TestSystemdRecipeRunsAsItsServiceWould runs the ExecStart= line of the
// recipes' systemd user service as systemd would: %h is the home
// directory, the line is split into words by its quotes, $$ is a $, and the
// service gets the user manager's environment (HOME, its PATH, the session
// bus). A working refresh says nothing; after a revocation it exits 3 and
// notify-send gets the message and the sign-in link.
func TestSystemdRecipeRunsAsItsServiceWould(t *testing.T) {
	keyringtest.Require(t)
	service := recipe(t, "### A systemd user timer", 0)
	home := t.TempDir()
	execStart := ""
	var environment []string // the Environment= assignments, %h replaced
	for _, line := range strings.Split(service, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = v
		}
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			environment = append(environment, strings.ReplaceAll(v, "%h", home))
		}
	}
	words, _, err := shellWords(strings.ReplaceAll(execStart, "%h", home))
	if err != nil || len(words) == 0 {
		t.Fatalf("ExecStart=%s: %v", execStart, err)
	}
	for i := range words {
		words[i] = strings.ReplaceAll(words[i], "$$", "$")
	}
	// systemd runs an absolute path, or looks for a bare name only in the
	// system's directories, never in the service's PATH.
	if !filepath.IsAbs(words[0]) {
		t.Fatalf("ExecStart=%s: systemd would not look for %s in the PATH the service sets", execStart, words[0])
	}
	// ms365auth where the README's archive install puts it, in
	// ~/.local/bin, not on the user manager's PATH; notify-send is a
	// stand-in that keeps its arguments.
	bin := filepath.Join(home, ".local", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(bin, "ms365auth")); err != nil {
		t.Fatal(err)
	}
	stubs := t.TempDir()
	shown := filepath.Join(home, "notified")
	notifySend := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + shown + "'\n"
	for _, dir := range []string{stubs, bin} { // the service may set its own PATH
		if err := os.WriteFile(filepath.Join(dir, "notify-send"), []byte(notifySend), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	h := newHarness(t)
	h.env = append(h.env, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"))
	link := recipeCommand(t, "link")
	if r := runDocCommand(t, h, link); r.code != 0 {
		t.Fatalf("%s\n  exit %d:\n%s", link, r.code, r.stderr)
	}
	// The user manager's environment, then the service's Environment=
	// (later assignments win, as in exec's environment lookup below).
	env := []string{"HOME=" + home, "PATH=" + stubs + ":/usr/local/bin:/usr/bin:/bin",
		"DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "XDG_RUNTIME_DIR=" + t.TempDir()}
	env = append(env, environment...)

	if r := runDetached(t, env, words); r.code != 0 || r.all() != "" {
		t.Fatalf("ExecStart=%s\n  exit %d; the journal would show: %q", execStart, r.code, r.all())
	}
	h.srv.RevokeRefreshTokens()
	if r := runDetached(t, env, words); r.code != 3 || strings.Count(strings.TrimSpace(r.all()), "\n") != 0 {
		t.Fatalf("after a revocation: exit %d (want 3), output:\n%s", r.code, r.all())
	}
	data, err := os.ReadFile(shown)
	if err != nil {
		t.Fatalf("notify-send was not run: %v", err)
	}
	summary, body, _ := strings.Cut(strings.TrimSuffix(string(data), "\n"), "\n")
	message, signInURL, ok := strings.Cut(body, " Link: ")
	if summary == "" || !ok || !strings.HasSuffix(message, "ms365auth link --profile work --returned-url -") || !isSignInLink(signInURL) {
		t.Errorf("notify-send showed:\n%s", data)
	}
}

// TestSystemdPhoneRecipeRunsAsItsServiceWould runs the phone recipe's
// ExecStart= as systemd would: after a revocation, curl posts the code to
// gotify, the phone approves it, and the service ends well, quietly.
func TestSystemdPhoneRecipeRunsAsItsServiceWould(t *testing.T) {
	keyringtest.Require(t)
	service := recipe(t, "### A systemd user service, with gotify", 0)
	execStart := ""
	for _, line := range strings.Split(service, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = v
		}
	}
	home := t.TempDir()
	words, _, err := shellWords(strings.ReplaceAll(execStart, "%h", home))
	if err != nil || len(words) == 0 || !slices.Contains(words, "--device-wait") {
		t.Fatalf("ExecStart=%s: %v", execStart, err)
	}
	for i := range words {
		words[i] = strings.ReplaceAll(words[i], "$$", "$")
	}
	if err := os.MkdirAll(filepath.Dir(words[0]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, words[0]); err != nil {
		t.Fatal(err)
	}
	stubs := t.TempDir()
	notes := curlStub(t, stubs)

	h := newHarness(t)
	h.env = append(h.env, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"))
	if r := runDocCommand(t, h, recipeCommand(t, "link")); r.code != 0 {
		t.Fatalf("link: exit %d:\n%s", r.code, r.stderr)
	}
	env := []string{"HOME=" + home, "PATH=" + stubs + ":/usr/local/bin:/usr/bin:/bin",
		"DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "XDG_RUNTIME_DIR=" + t.TempDir()}
	allowDeviceCode(h)
	h.srv.RevokeRefreshTokens()
	done := startDetached(t, env, words)
	posted := <-notes
	if !strings.Contains(strings.Join(posted, "\n"), "message=ms365auth: profile \"work\" needs a sign-in: open ") {
		t.Errorf("gotify's message: %q", posted)
	}
	approveFromPhone(t, h, posted)
	if r := done(); r.code != 0 || r.all() != "" {
		t.Fatalf("ExecStart=%s\n  exit %d; the journal would show: %q", execStart, r.code, r.all())
	}
}
