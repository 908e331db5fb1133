package cli_test

// Docs that stay true: the ms365auth command lines written in README.md and
// docs/*.md are run with the real binary, so that a documented flag or
// command that no longer exists fails a test instead of a reader.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/graphsim"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// docCommand is one ms365auth command line found in the documentation.
type docCommand struct {
	where string   // file:line
	env   []string // NAME=value words written before the command
	args  []string // the words after "ms365auth"
}

func (c docCommand) String() string {
	return c.where + ": " + strings.Join(append(slices.Clone(c.env), append([]string{"ms365auth"}, c.args...)...), " ")
}

func (c docCommand) has(flag string) bool { return slices.Contains(c.args, flag) }

// docPlaceholders stand in for what a reader fills in.
var docPlaceholders = strings.NewReplacer("<application ID>", testClientID)

var (
	fenceRE      = regexp.MustCompile("^\\s*(```+|~~~+)\\s*([^\\s`]*)")
	inlineCodeRE = regexp.MustCompile("`([^`]+)`")
	// A command starts at "ms365auth" followed by a word: a subcommand
	// or a flag. "ms365auth-link" (a man page) and "ms365auth:" do not.
	commandRE = regexp.MustCompile(`\bms365auth[ \t]+[a-z-]`)
	envWordRE = regexp.MustCompile(`(?:[A-Za-z_][A-Za-z0-9_]*=[^\s'"]*[ \t]+)+$`)
)

// docText is a piece of a Markdown file that may hold commands.
type docText struct {
	line int
	lang string // info string of a fenced block; "inline" for code spans
	text string
}

// blockUnder returns the n-th (from 0) code block in the section of file
// (from the repository's root) under heading ("## msmtp"), as written;
// false when the section has fewer blocks.
func blockUnder(t *testing.T, file, heading string, n int) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	at := slices.Index(lines, heading)
	if at < 0 {
		t.Fatalf("%s has no heading %q", file, heading)
	}
	// The section ends at the next heading of its level or above (outside
	// code blocks, where "# " starts a comment).
	level := strings.Index(heading, " ")
	next, fenced := len(lines), false
	for i := at + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "```") {
			fenced = !fenced
		}
		if n := strings.Index(lines[i], "# "); !fenced && strings.HasPrefix(lines[i], "#") && n >= 0 && n < level {
			next = i
			break
		}
	}
	var blocks []string
	for _, d := range markdownCode(string(data), false) {
		if d.line > at+1 && d.line <= next {
			blocks = append(blocks, d.text)
		}
	}
	if n >= len(blocks) {
		return "", false
	}
	return blocks[n], true
}

// markdownCode returns the fenced code blocks of a Markdown file and, when
// inline is set, its code spans outside them (spans may cross line breaks).
func markdownCode(md string, inline bool) []docText {
	var out []docText
	lines := strings.Split(md, "\n")
	var prose strings.Builder
	proseLine := 1
	flushProse := func() {
		if inline {
			text := prose.String()
			for _, m := range inlineCodeRE.FindAllStringSubmatchIndex(text, -1) {
				line := proseLine + strings.Count(text[:m[0]], "\n")
				out = append(out, docText{line, "inline", strings.ReplaceAll(text[m[2]:m[3]], "\n", " ")})
			}
		}
		prose.Reset()
	}
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			if prose.Len() == 0 {
				proseLine = i + 1
			}
			prose.WriteString(lines[i] + "\n")
			continue
		}
		flushProse()
		start := i + 1
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), m[1]); i++ {
			body = append(body, lines[i])
		}
		out = append(out, docText{start + 1, m[2], strings.Join(body, "\n")})
	}
	flushProse()
	return out
}

// commandsIn finds the ms365auth command lines in a piece of code. Lines
// continued with a backslash are joined, comment lines skipped. The context
// decides where a command ends: inside "..." or '...' (a config file's
// passwordeval "ms365auth token ...") at the closing quote, inside $(...) at
// the parenthesis, otherwise where the shell would end a simple command.
func commandsIn(file string, d docText) ([]docCommand, error) {
	var out []docCommand
	raw := strings.Split(d.text, "\n")
	for i := 0; i < len(raw); i++ {
		where := fmt.Sprintf("%s:%d", file, d.line+i)
		line := raw[i]
		for strings.HasSuffix(line, "\\") && i+1 < len(raw) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + raw[i]
		}
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		line = docPlaceholders.Replace(line)
		rest := 0
		for {
			loc := commandRE.FindStringIndex(line[rest:])
			if loc == nil {
				break
			}
			start := rest + loc[0]
			before := line[:start]
			var env []string
			if m := envWordRE.FindString(before); m != "" {
				env = strings.Fields(m)
				before = strings.TrimSuffix(before, m)
			}
			text := line[start+len("ms365auth"):]
			if before != "" {
				switch q := before[len(before)-1]; q {
				case '"', '\'':
					if end := strings.IndexByte(text, q); end >= 0 {
						text = text[:end]
					}
				}
			}
			words, n, err := shellWords(text)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			out = append(out, docCommand{where: where, env: env, args: words})
			rest = start + len("ms365auth") + n
		}
	}
	return out, nil
}

// shellWords splits s as sh splits a simple command, with quotes and
// backslashes but no expansions, and stops at an unquoted operator
// (| & ; < > ( ) `) or a word starting with '#'. It returns the words and
// how many bytes of s it read.
func shellWords(s string) ([]string, int, error) {
	var words []string
	var w strings.Builder
	inWord := false
	end := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			end()
		case strings.IndexByte("|&;<>()`", c) >= 0:
			end()
			return words, i, nil
		case c == '#' && !inWord:
			return words, i, nil
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, 0, fmt.Errorf("unterminated ' in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += 1 + j
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, 0, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
		i++
	}
	end()
	return words, len(s), nil
}

func TestShellWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		n    int
	}{
		{" token --profile work", []string{"token", "--profile", "work"}, 21},
		{" token)\" https://graph", []string{"token"}, 6},
		{" reauth --notify-cmd 'notify-send \"$MS365AUTH_MESSAGE\"' # cron", []string{"reauth", "--notify-cmd", `notify-send "$MS365AUTH_MESSAGE"`}, 56},
		{` status --json | jq .x`, []string{"status", "--json"}, 15},
		{` link --returned-url "a\"b" > out`, []string{"link", "--returned-url", `a"b`}, 28},
	}
	for _, c := range cases {
		got, n, err := shellWords(c.in)
		if err != nil || !slices.Equal(got, c.want) || n != c.n {
			t.Errorf("shellWords(%q) = %q, %d, %v; want %q, %d", c.in, got, n, err, c.want, c.n)
		}
	}
}

func TestCommandsIn(t *testing.T) {
	text := strings.Join([]string{
		`go install ./cmd/ms365auth && ms365auth --help`,
		`passwordeval "ms365auth token --profile work --scopes smtp"`,
		`curl -H "Authorization: Bearer $(ms365auth token)" https://graph.microsoft.com/v1.0/me`,
		`# ms365auth logout (a comment)`,
		`MS365AUTH_PROFILE=school ms365auth token`,
		`ExecStart=%h/go/bin/ms365auth reauth --non-interactive --notify-cmd 'notify-send "ms365auth" "$$M"'`,
		`ms365auth link --client-id <application ID> \`,
		`  --scopes calendar`,
	}, "\n")
	got, err := commandsIn("x.md", docText{line: 1, text: text})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, strings.Join(append(slices.Clone(c.env), c.args...), " "))
	}
	want := []string{
		"--help",
		"token --profile work --scopes smtp",
		"token",
		"MS365AUTH_PROFILE=school token",
		`reauth --non-interactive --notify-cmd notify-send "ms365auth" "$$M"`,
		"link --client-id " + testClientID + " --scopes calendar",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// docCommands reads the commands of one document: fenced blocks whose info
// string is in langs (all blocks when langs is empty), and code spans when
// inline is set.
func docCommands(t *testing.T, file string, inline bool, langs ...string) []docCommand {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", file))
	if err != nil {
		t.Fatal(err)
	}
	var out []docCommand
	for _, d := range markdownCode(string(data), inline) {
		if d.lang != "inline" && len(langs) > 0 && !slices.Contains(langs, d.lang) {
			continue
		}
		cmds, err := commandsIn(file, d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cmds...)
	}
	if len(out) == 0 {
		t.Fatalf("no ms365auth command lines found in %s", file)
	}
	return out
}

// TestDocumentedCommandsParse checks every ms365auth command line in the
// documentation, in code blocks and code spans, against the real command
// tree: with --help added, an unknown command or flag, or a flag value of
// the wrong type, still fails, but nothing runs.
func TestDocumentedCommandsParse(t *testing.T) {
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		files = append(files, filepath.Join("docs", filepath.Base(f)))
	}
	home := t.TempDir()
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_STATE_HOME="+filepath.Join(home, "state"), "MS365AUTH_PROFILE=")
	seen := map[string]bool{}
	for _, f := range files {
		for _, c := range docCommands(t, f, true) {
			key := strings.Join(c.args, "\x00")
			if seen[key] {
				continue
			}
			seen[key] = true
			// --help goes right after the command's name: at the end it
			// could become the value of a flag, and the command would run.
			n := slices.IndexFunc(c.args, func(a string) bool { return strings.HasPrefix(a, "-") })
			if n < 0 {
				n = len(c.args)
			}
			args := slices.Insert(slices.Clone(c.args), n, "--help")
			h := &harness{t: t, env: env}
			t.Logf("%s", c)
			if r := h.run("", args...); r.code != 0 {
				t.Errorf("%s\n  does not parse (exit %d): %s", c, r.code, strings.TrimSpace(r.stderr))
			}
		}
	}
}

// TestDocsRunAgainstTheDouble runs the command lines of the README (its sh
// blocks) and of docs/recipes.md (every block) in order, each document in a
// fresh world, against the Entra double with the real keyring, and expects
// each to succeed. A link command is answered as a person would answer it.
func TestDocsRunAgainstTheDouble(t *testing.T) {
	docs := []struct {
		file  string
		langs []string
	}{
		{"README.md", []string{"sh"}},
		{"docs/recipes.md", nil},
	}
	var ran []docCommand
	for _, d := range docs {
		t.Run(filepath.Base(d.file), func(t *testing.T) {
			h := newHarness(t,
				entrasim.Redirect{URI: entrasim.NativeClientRedirectURI, Platform: entrasim.MobileDesktop},
				entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop},
			)
			// A browser that opens nothing, for commands the docs show
			// without --no-browser; files the commands write go to a
			// directory of their own.
			h.env = append(h.env, "BROWSER=true")
			h.dir = t.TempDir()
			// api's requests go to the Graph double.
			g := graphsim.NewServer(h.srv)
			t.Cleanup(g.Close)
			addWeek(g, 3)
			h.env = append(h.env, "MS365AUTH_GRAPH_URL="+g.URL)
			cmds := docCommands(t, d.file, false, d.langs...)
			profiles := map[string]bool{}
			t.Cleanup(func() {
				for p := range profiles {
					store.NewKeyring().Delete(p)
					store.NewKeyring().DeleteSecret(p)
				}
			})
			for _, c := range cmds {
				if i := slices.Index(c.args, "--profile"); i >= 0 && i+1 < len(c.args) {
					profiles[c.args[i+1]] = true
				}
				for _, e := range c.env {
					if p, ok := strings.CutPrefix(e, "MS365AUTH_PROFILE="); ok {
						profiles[p] = true
					}
				}
				r := runDocCommand(t, h, c)
				if r.code != 0 {
					t.Fatalf("%s\n  exit %d:\n%s", c, r.code, r.stderr)
				}
				if c.args[0] == "token" && (strings.Count(r.stdout, "\n") != 1 || len(r.stdout) < 20) {
					t.Errorf("%s\n  printed no token: %q", c, r.stdout)
				}
				ran = append(ran, c)
			}
		})
	}

	// What the documentation must go on showing, and therefore testing.
	musts := []struct {
		what string
		ok   func(docCommand) bool
	}{
		{"the sandbox quick start", func(c docCommand) bool { return c.args[0] == "link" && c.has("--sandbox") }},
		{"ms365auth token", func(c docCommand) bool { return c.args[0] == "token" }},
		{"a token for SMTP", func(c docCommand) bool {
			return c.args[0] == "token" && c.has("https://outlook.office.com/SMTP.Send")
		}},
		{"reauth --non-interactive", func(c docCommand) bool { return c.args[0] == "reauth" && c.has("--non-interactive") }},
		{"ms365auth status", func(c docCommand) bool { return c.args[0] == "status" }},
		{"a calendar listing with api", func(c docCommand) bool { return c.args[0] == "api" && c.has("--paginate") }},
		{"sending a message with api", func(c docCommand) bool { return c.args[0] == "api" && c.has("/me/sendMail") }},
	}
	for _, m := range musts {
		if !slices.ContainsFunc(ran, m.ok) {
			t.Errorf("the documentation no longer runs %s", m.what)
		}
	}
}

// personalUser is the personal Microsoft account of docs/recipes.md.
const personalUser = "adele.vance@outlook.com"

// runDocCommand runs one documented command; link commands get a person.
func runDocCommand(t *testing.T, h *harness, c docCommand) result {
	t.Helper()
	hh := *h
	hh.env = append(slices.Clone(h.env), c.env...)
	if len(c.args) == 0 || c.args[0] != "link" {
		return hh.run("", c.args...)
	}
	switch {
	case c.has("--sandbox"):
		return hh.run("\n", c.args...) // an empty line: the sandbox plays the browser
	case c.has("--alt"):
		return hh.session(func(line string, _ io.WriteCloser) {
			if isSignInLink(line) {
				hh.browse(line)
			}
		}, append(slices.Clone(c.args), "--no-browser")...)
	case c.has("--device"), c.has("--print-link"), c.has("--returned-url"):
		t.Fatalf("%s\n  this test has no person for this kind of link yet; add one to runDocCommand", c)
		return result{}
	case c.has("consumers"):
		// A person with a personal Microsoft account, the recipe's.
		hh.srv.AddUser(entrasim.User{Username: personalUser, Name: "Adele Vance", TenantID: entrasim.ConsumersTenantID})
		defer hh.srv.SignInAs(hh.srv.SignedIn())
		hh.srv.SignInAs(personalUser)
		return hh.link(hh.signIn, c.args[1:]...)
	default:
		return hh.link(hh.signIn, c.args[1:]...)
	}
}
