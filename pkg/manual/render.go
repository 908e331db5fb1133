package manual

import (
	"fmt"
	"strings"
)

// ExitSummary is the one-line summary of the exit statuses, e.g.
// "0 success, 1 error, 3 a person must sign in interactively".
func ExitSummary() string {
	parts := make([]string, len(ExitStatuses))
	for i, s := range ExitStatuses {
		parts[i] = fmt.Sprintf("%d %s", s.Code, s.Short)
	}
	return strings.Join(parts, ", ")
}

// Text renders the tables for --help: plain text, wrapped to 80 columns.
func Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nEnvironment:\n", wrap("Exit codes: "+ExitSummary()+".", "", 80))
	for _, v := range Environment {
		fmt.Fprintf(&b, "  %s\n%s", v.Name, wrap(v.Meaning, "      ", 80))
	}
	b.WriteString("\nFiles:\n")
	for _, f := range Files {
		fmt.Fprintf(&b, "  %s\n%s", f.Path, wrap(f.Meaning, "      ", 80))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// wrap fills text into lines of at most width columns, each starting with
// indent (a word longer than a line gets a line of its own).
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	return b.String() + line + "\n"
}

// Roff renders the EXIT STATUS, ENVIRONMENT and FILES sections of the man
// page of command (a top-level command's name; "" for ms365auth(1)).
func Roff(command string) string {
	var b strings.Builder
	b.WriteString(".SH EXIT STATUS\n")
	for _, s := range ExitStatuses {
		fmt.Fprintf(&b, ".TP\n\\fB%d\\fP\n%s\n", s.Code, roff(s.Meaning))
	}
	b.WriteString("\n.SH ENVIRONMENT\n")
	for _, v := range For(command) {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", roff(v.Name), roff(v.Meaning))
	}
	b.WriteString("\n.SH FILES\n")
	for _, f := range Files {
		fmt.Fprintf(&b, ".TP\n\\fI%s\\fP\n%s\n", roff(f.Path), roff(f.Meaning))
	}
	return b.String()
}

// roff escapes text for a roff text line: backslashes, hyphens (so that
// options copy as ASCII minus signs) and a leading control character.
func roff(text string) string {
	text = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(text)
	if strings.HasPrefix(text, ".") || strings.HasPrefix(text, "'") {
		text = `\&` + text
	}
	return text
}

// Markdown renders the tables for the README, as three tables.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| exit status | meaning |\n|---|---|\n")
	for _, s := range ExitStatuses {
		fmt.Fprintf(&b, "| %d | %s |\n", s.Code, markdown(s.Meaning))
	}
	b.WriteString("\n| variable | meaning |\n|---|---|\n")
	for _, v := range Environment {
		fmt.Fprintf(&b, "| `%s` | %s |\n", v.Name, markdown(v.Meaning))
	}
	b.WriteString("\n| file | holds |\n|---|---|\n")
	for _, f := range Files {
		fmt.Fprintf(&b, "| `%s` | %s |\n", f.Path, markdown(f.Meaning))
	}
	return b.String()
}

// markdown escapes what a table cell cannot hold as is.
func markdown(text string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(text)
}
