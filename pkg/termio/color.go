package termio

import "os"

// ColorEnabled reports whether output written to f may carry colour and
// other ANSI escape sequences, reading the environment through getenv. It
// is false when NO_COLOR is set to anything but the empty string
// (https://no-color.org), when TERM is "dumb", when f is not a terminal (a
// pipe or a file), or when a Windows console cannot be switched to
// interpret escape sequences; true otherwise.
func ColorEnabled(f *os.File, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(f) && colorCapable(f)
}

// Styler wraps text in ANSI styles when colour is enabled and returns it
// unchanged otherwise. The zero Styler never styles.
type Styler struct{ enabled bool }

// NewStyler returns a Styler for output written to f, styling only if
// ColorEnabled(f, getenv).
func NewStyler(f *os.File, getenv func(string) string) Styler {
	return Styler{enabled: ColorEnabled(f, getenv)}
}

// ColorStyler returns a Styler that always styles, for a --color=always
// setting and for tests.
func ColorStyler() Styler { return Styler{enabled: true} }

// Enabled reports whether s styles text.
func (s Styler) Enabled() bool { return s.enabled }

// Bold returns text in bold.
func (s Styler) Bold(text string) string { return s.wrap("1", text) }

// Dim returns text dimmed, for details of lesser interest.
func (s Styler) Dim(text string) string { return s.wrap("2", text) }

// Red returns text in red, for failures.
func (s Styler) Red(text string) string { return s.wrap("31", text) }

// Green returns text in green, for success.
func (s Styler) Green(text string) string { return s.wrap("32", text) }

// Yellow returns text in yellow, for warnings.
func (s Styler) Yellow(text string) string { return s.wrap("33", text) }

func (s Styler) wrap(sgr, text string) string {
	if !s.enabled || text == "" {
		return text
	}
	return "\x1b[" + sgr + "m" + text + "\x1b[0m"
}
