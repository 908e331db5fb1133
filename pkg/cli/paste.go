package cli

import (
	"context"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// pasteDialogue is the primary method's dialogue (flow.Paste) on env's
// standard input, spoken through u; onEmpty answers an empty line (the
// sandbox plays the browser).
func pasteDialogue(env *Env, u ui, p *profile.Profile, onEmpty func() (string, error)) flow.Paste {
	return flow.Paste{
		ReadLine:  func(ctx context.Context) (string, error) { return readReturnedURL(ctx, env, p) },
		Out:       u,
		Person:    isTerminal(env.In),
		StartOver: env.commandLine(),
		OnEmpty:   onEmpty,
	}
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
