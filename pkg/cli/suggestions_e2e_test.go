package cli_test

// Every command the tool suggests must run as printed. The harness hands
// each run's output (and each --notify-cmd message) to checkSuggestions,
// which finds the commands in it ("run: ms365auth …", "fix: …", "Now try:
// …", hints), parses each with the real command tree, checks that it keeps
// the flags the situation needs, and, at the end of the test, runs the
// ones that can run on a copy of the world the suggestion was made in and
// requires that they get further than a refusal of the command line.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/cli"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// suggested is every distinct suggested command the e2e tests met,
// reported by TestMain.
var suggested = struct {
	sync.Mutex
	commands map[string]bool
	ran      map[string]bool // command + situation, run once each
}{commands: map[string]bool{}, ran: map[string]bool{}}

// reportSuggestions says how many distinct commands were checked.
func reportSuggestions() {
	suggested.Lock()
	defer suggested.Unlock()
	if len(suggested.commands) > 0 && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "suggested commands checked: %d distinct, %d run\n", len(suggested.commands), len(suggested.ran))
	}
}

// subcommands a suggestion may name, in the order the tree has them.
const subcommandWords = `link|reauth|status|token|api|logout|doctor|store|completion`

var (
	// namedCommand starts a suggestion that names the program.
	namedCommand = regexp.MustCompile(`\bms365auth (?:` + subcommandWords + `)\b`)
	// unnamedCommand is a subcommand given as a command to run without
	// the program's name: after "run", a colon, "with" or "instead".
	unnamedCommand = regexp.MustCompile("(?:^|\\brun:?|:|\\bwith|\\binstead)\\s+[`\"']?((?:" + subcommandWords + `)\s+--[a-z])`)
)

// notifyRecorder is prefixed to a run's --notify-cmd so that the harness
// sees the message the notification carries; the test's own command still
// runs after it, with the same environment.
const notifyRecorder = `printf '%s\n' "$MS365AUTH_MESSAGE" >> "$MS365AUTH_TEST_NOTIFIED"; `

// recordingNotify returns args with --notify-cmd recording its message
// in a file of dir, and the file.
func recordingNotify(args []string, dir string) ([]string, []string) {
	i := slices.Index(args, "--notify-cmd")
	if i < 0 || i+1 >= len(args) {
		return args, nil
	}
	file := filepath.Join(dir, fmt.Sprintf("notified-%d", time.Now().UnixNano()))
	out := slices.Clone(args)
	out[i+1] = notifyRecorder + out[i+1]
	return out, []string{"MS365AUTH_TEST_NOTIFIED=" + file}
}

// situation is what a suggestion was made in: the command that printed
// it, its environment, and the settings after it ran.
type situation struct {
	args     []string
	env      []string
	code     int
	cfg      *profile.Config
	snapshot string // a copy of the harness's home after the run
}

// parsedCommand is one suggested command, parsed with the real tree.
type parsedCommand struct {
	text  string
	path  string // "link", "store move"
	flags map[string][]string
	words []string // after "ms365auth", placeholders as printed
}

func (p parsedCommand) has(flag string) bool { _, ok := p.flags[flag]; return ok }
func (p parsedCommand) value(flag string) string {
	if v := p.flags[flag]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// placeholders a person fills in; the runnable stand-in for each.
var placeholders = map[string]string{"<application ID>": testClientID}

func isPlaceholder(w string) bool {
	if _, ok := placeholders[w]; ok {
		return true
	}
	return w == "..." || (w != "" && strings.ToUpper(w) == w && strings.Trim(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "")
}

func newTree() *cobra.Command {
	return cli.NewRootCmd(&cli.Env{Getenv: func(string) string { return "" }})
}

// splitWords splits a suggestion's text after "ms365auth " into words:
// single quotes group, <…> is one placeholder; a word ending in
// punctuation (a full stop, a comma, a closing bracket or quote) ends the
// command.
func splitWords(s string) []string {
	var words []string
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return words
		}
		switch s[0] {
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return append(words, s[1:])
			}
			words = append(words, s[1:end+1])
			s = s[end+2:]
			if s != "" && s[0] != ' ' {
				return words
			}
			continue
		case '<':
			if end := strings.IndexByte(s, '>'); end > 0 {
				words = append(words, s[:end+1])
				s = s[end+1:]
				if s != "" && s[0] != ' ' {
					return words
				}
				continue
			}
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		w := s[:end]
		s = s[end:]
		if rest, ok := strings.CutPrefix(w, "..."); ok { // a placeholder
			words = append(words, "...")
			if rest != "" {
				return words
			}
			continue
		}
		trimmed := strings.TrimRight(w, ".,;:)\"`'")
		if trimmed != w {
			if trimmed != "" {
				words = append(words, trimmed)
			}
			return words
		}
		words = append(words, w)
	}
}

// parseSuggestion reads the command at the start of text (just after
// "ms365auth ") with the real command tree: its subcommand, then flags
// and their values, then the arguments the command takes. It returns an
// error when the command would not parse as printed.
func parseSuggestion(text string) (parsedCommand, error) {
	words := splitWords(text)
	root := newTree()
	cmd := root
	var path []string
	i := 0
	for ; i < len(words); i++ {
		next, _, err := cmd.Find([]string{words[i]})
		if err != nil || next == cmd || strings.HasPrefix(words[i], "-") {
			break
		}
		cmd = next
		path = append(path, words[i])
	}
	pc := parsedCommand{path: strings.Join(path, " "), flags: map[string][]string{}}
	var argv []string
	positional := 0 // api takes a path; the others take none
	if cmd.Name() == "api" {
		positional = 1
	}
	for ; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") {
			if positional > 0 {
				positional--
				argv = append(argv, w)
				continue
			}
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		f := cmd.Flags().Lookup(name)
		if f == nil {
			f = cmd.InheritedFlags().Lookup(name)
		}
		if f == nil && len(name) == 1 && !strings.HasPrefix(w, "--") {
			f = cmd.Flags().ShorthandLookup(name)
			if f == nil {
				f = cmd.InheritedFlags().ShorthandLookup(name)
			}
		}
		if f == nil {
			return pc, fmt.Errorf("unknown flag %s", w)
		}
		argv = append(argv, w)
		if !hasValue && f.NoOptDefVal == "" {
			if i+1 >= len(words) {
				return pc, fmt.Errorf("flag %s needs a value", w)
			}
			i++
			value = words[i]
			argv = append(argv, value)
		}
		pc.flags[f.Name] = append(pc.flags[f.Name], value)
	}
	pc.words = append(slices.Clone(path), argv...)
	pc.text = "ms365auth " + strings.Join(quoteWords(pc.words), " ")
	if len(path) == 0 {
		return pc, fmt.Errorf("no command")
	}
	// The real parse, on a fresh tree, with placeholders filled in.
	fresh := newTree()
	c, rest, err := fresh.Find(fill(pc.words))
	if err != nil {
		return pc, err
	}
	if err := c.ParseFlags(rest); err != nil {
		return pc, err
	}
	if c.HasAvailableSubCommands() {
		return pc, fmt.Errorf("%s needs a subcommand", c.CommandPath())
	}
	if err := c.ValidateArgs(c.Flags().Args()); err != nil {
		return pc, err
	}
	return pc, nil
}

func fill(words []string) []string {
	out := slices.Clone(words)
	for i, w := range out {
		if v, ok := placeholders[w]; ok {
			out[i] = v
		}
	}
	return out
}

func quoteWords(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, " ,'\"$") && !strings.HasPrefix(w, "<") {
			w = "'" + w + "'"
		}
		out[i] = w
	}
	return out
}

// profileOf is the profile a command acts on: --sandbox's, --profile, the
// environment's MS365AUTH_PROFILE, else the default.
func profileOf(sandbox bool, flag string, env []string) string {
	switch {
	case sandbox:
		return profile.SandboxName
	case flag != "":
		return flag
	case envValue(env, "MS365AUTH_PROFILE") != "":
		return envValue(env, "MS365AUTH_PROFILE")
	}
	return profile.DefaultName
}

// shown is the command that printed the suggestions, long values cut.
func (s situation) shown() string {
	var words []string
	for _, a := range s.args {
		if len(a) > 60 {
			a = a[:57] + "..."
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// ran is the command that printed the suggestions, parsed.
func (s situation) ran() parsedCommand {
	pc, _ := parseSuggestion(strings.Join(quoteWords(s.args), " "))
	return pc
}

// storeOf is the store a link for name would use with command c's flags:
// --store, MS365AUTH_STORE, the remembered store, the keyring.
func (s situation) linkStore(c parsedCommand, name string) string {
	switch {
	case c.value("store") != "":
		return c.value("store")
	case envValue(s.env, "MS365AUTH_STORE") != "":
		return envValue(s.env, "MS365AUTH_STORE")
	case s.cfg.Get(name) != nil && s.cfg.Get(name).Store != "":
		return s.cfg.Get(name).Store
	}
	return "keyring"
}

// problems checks suggestion c against the situation it was made in.
func (s situation) problems(c parsedCommand) []string {
	var out []string
	r := s.ran()
	here := profileOf(r.has("sandbox"), r.value("profile"), s.env)
	there := profileOf(c.has("sandbox"), c.value("profile"), s.env)
	if r.has("all") {
		here = there // a command for every profile speaks of each
	}
	sandbox := r.has("sandbox") || (s.cfg.Get(here) != nil && s.cfg.Get(here).Sandbox)
	perProfile := c.path != "completion" && !c.has("all")
	switch {
	case sandbox && c.path == "link" && !c.has("sandbox") && !isPlaceholder(c.value("profile")):
		out = append(out, "links without --sandbox, but the situation is the sandbox")
	case perProfile && there != here && !isPlaceholder(c.value("profile")):
		out = append(out, fmt.Sprintf("acts on profile %q, but the situation is profile %q (--profile dropped)", there, here))
	}
	if sandbox && there == here {
		switch c.path {
		case "reauth":
			out = append(out, "renews the sandbox profile, whose stand-in has ended (only link --sandbox signs it in)")
		}
	}
	if c.path == "link" && there == here && !c.has("returned-url") {
		if r.path == "link" && s.linkStore(r, here) == "file" && s.linkStore(c, there) != "file" {
			out = append(out, "drops --store file: the link would open the keyring")
		}
		if p := s.cfg.Get(there); !c.has("sandbox") && (p == nil || p.ClientID == "") && !c.has("client-id") {
			out = append(out, fmt.Sprintf("profile %q has no client ID yet, and the command has no --client-id", there))
		}
	}
	// A pending sign-in (link --returned-url) keeps the scopes it asked for.
	if r.path == "reauth" && s.code != 0 && there == here && (c.path == "reauth" || (c.path == "link" && !c.has("returned-url"))) {
		want, _ := entra.ResolveScopes(scopeList(r.flags["scopes"]))
		have, _ := entra.ResolveScopes(scopeList(c.flags["scopes"]))
		for _, scope := range want {
			if !slices.Contains(have, scope) {
				out = append(out, fmt.Sprintf("drops the pending --scopes %s", scope))
			}
		}
	}
	return out
}

// scopeList splits --scopes values (comma or space separated).
func scopeList(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	return out
}

// isHelp says a run printed help or reference text, not messages.
func isHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--help" || a == "-h" || a == "help" || a == "completion" || a == "--version"
	})
}

// checkSuggestions finds the commands in a run's output, checks each
// against the situation, and registers the runnable ones to be run when
// the test ends. The harness calls it after every run.
func (h *harness) checkSuggestions(s situation, texts ...string) {
	h.t.Helper()
	if isHelp(s.args) {
		return
	}
	path := envValue(s.env, "MS365AUTH_CONFIG")
	if path == "" {
		path = filepath.Join(envValue(s.env, "XDG_CONFIG_HOME"), "ms365auth", "config.json")
	}
	cfg, err := profile.Load(path)
	if err != nil {
		return // a test that damages the settings on purpose
	}
	s.cfg = cfg
	var toRun []parsedCommand
	for _, text := range texts {
		for _, line := range strings.Split(text, "\n") {
			for _, m := range unnamedCommand.FindAllStringSubmatchIndex(line, -1) {
				if !strings.HasSuffix(line[:m[2]], "ms365auth ") {
					h.t.Errorf("ms365auth %s printed a command without naming ms365auth: %q\nin: %s", s.shown(), line[m[2]:], line)
				}
			}
			for _, m := range namedCommand.FindAllStringIndex(line, -1) {
				c, err := parseSuggestion(line[m[0]+len("ms365auth "):])
				suggested.Lock()
				suggested.commands[c.text] = true
				suggested.Unlock()
				if err != nil {
					h.t.Errorf("ms365auth %s suggested %q, which does not parse: %v\nin: %s", s.shown(), c.text, err, line)
					continue
				}
				for _, p := range s.problems(c) {
					h.t.Errorf("ms365auth %s suggested %q, which %s\nin: %s", s.shown(), c.text, p, line)
				}
				if runnable(c) {
					toRun = append(toRun, c)
				}
			}
		}
	}
	if len(toRun) == 0 {
		return
	}
	s.snapshot = h.snapshotHome()
	t := h.t
	t.Cleanup(func() {
		for _, c := range toRun {
			key := c.text + "\x00" + strings.Join(s.env, "\x00") + "\x00" + fmt.Sprint(s.cfg.Get(profileOf(c.has("sandbox"), c.value("profile"), s.env)))
			suggested.Lock()
			seen := suggested.ran[key]
			suggested.ran[key] = true
			suggested.Unlock()
			if !seen {
				h.runSuggestion(s, c)
			}
		}
	})
}

// runnable says a suggestion can be run on a copy of its world without
// changing what the test left: link (stopped at its sign-in link, before
// anything is stored), status and doctor (which only read).
func runnable(c parsedCommand) bool {
	for _, w := range c.words {
		if isPlaceholder(w) {
			if _, ok := placeholders[w]; !ok {
				return false
			}
		}
	}
	switch c.path {
	case "link":
		return !c.has("returned-url")
	case "status", "doctor":
		return true
	}
	return false
}

// snapshotHome copies the harness's home (settings, state, file store).
func (h *harness) snapshotHome() string {
	h.t.Helper()
	dst, err := os.MkdirTemp("", "ms365auth-suggestion-")
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { os.RemoveAll(dst) })
	if err := os.CopyFS(dst, os.DirFS(h.home())); err != nil && !os.IsNotExist(err) {
		h.t.Logf("copying the home for the suggestions: %v", err)
	}
	return dst
}

// refusals are what a command that fails as printed says.
var refusals = []string{
	"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "accepts no arguments",
	"is required the first time", "always uses the profile", "is kept for --sandbox", "contradict each other",
	"the OS keyring is unavailable", "the sandbox has ended", "invalid argument",
}

// runSuggestion runs c in the world of s (a copy of its home, its
// environment) and fails the test when it is refused as printed. A link
// is stopped once it shows a sign-in link or a device code.
func (h *harness) runSuggestion(s situation, c parsedCommand) {
	t := h.t
	t.Helper()
	env := append(slices.Clone(s.env),
		"XDG_CONFIG_HOME="+filepath.Join(s.snapshot, "config"),
		"XDG_STATE_HOME="+filepath.Join(s.snapshot, "state"),
		"BROWSER=false", // never a real browser
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, fill(c.words)...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	further := false
	sc := bufio.NewScanner(stderr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if isSignInLink(line) || strings.Contains(line, "enter the code") {
			further = true
			cmd.Process.Kill()
			break
		}
	}
	io.Copy(io.Discard, stderr)
	cmd.Wait()
	if further {
		return
	}
	out := strings.Join(lines, "\n")
	for _, refusal := range refusals {
		if strings.Contains(out, refusal) {
			t.Errorf("ms365auth %s suggested %q, which fails as printed:\n%s", s.shown(), c.text, out)
			return
		}
	}
}
