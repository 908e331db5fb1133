package flow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// lines is a ReadLine answering with the given lines, then io.EOF; it
// records how many it gave.
type lines struct {
	answers []string
	read    int
}

func (l *lines) ReadLine(context.Context) (string, error) {
	if l.read == len(l.answers) {
		return "", io.EOF
	}
	l.read++
	return l.answers[l.read-1], nil
}

func newPasteAuth(t *testing.T) *Authorization {
	t.Helper()
	_, c := newClient(t)
	auth, err := c.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

func returned(auth *Authorization, q url.Values) string {
	return auth.RedirectURI + "?" + q.Encode()
}

func TestPasteDialogue(t *testing.T) {
	auth := newPasteAuth(t)
	good := returned(auth, url.Values{"code": {"the-code"}, "state": {auth.State}})
	otherState := returned(auth, url.Values{"code": {"the-code"}, "state": {"another"}})
	denied := returned(auth, url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent."}, "state": {auth.State}})
	const prompt = "When the browser shows a blank page, copy the whole URL from its address bar,\npaste it here and press Enter:\n"

	tests := []struct {
		name    string
		person  bool
		answers []string
		onEmpty func() (string, error)
		code    string
		reads   int
		errIs   error  // checked with errors.Is
		errHas  string // a part of the error
		problem entra.Problem
		out     []string // parts of what the person was told, in order
	}{
		{name: "script, good", answers: []string{good}, code: "the-code", reads: 1},
		{name: "script, one bad line ends it", answers: []string{otherState, good}, reads: 1, problem: entra.StateMismatch},
		{name: "script, nothing", answers: nil, reads: 0, errIs: io.EOF},
		{name: "script, empty line", answers: []string{"  "}, reads: 1, errIs: ErrNothingPasted},
		{name: "person, good", person: true, answers: []string{good}, code: "the-code", reads: 1, out: []string{prompt}},
		{name: "person, slip then good", person: true, answers: []string{"not a url", otherState, good}, code: "the-code", reads: 3,
			out: []string{prompt, "Paste the URL again (try 2 of 3; Ctrl-C stops):\n", "Paste the URL again (try 3 of 3; Ctrl-C stops):\n"}},
		{name: "person, the link itself", person: true, answers: []string{auth.URL, good}, code: "the-code", reads: 2,
			out: []string{prompt, "Paste the URL again (try 2 of 3; Ctrl-C stops):\n"}},
		{name: "person gives up after three", person: true, answers: []string{"a", "b", "c", good}, reads: 3, problem: entra.NotAURL,
			errHas: "\nno usable URL after 3 tries; start the sign-in again with: ms365auth link --profile work"},
		{name: "person, Entra's error is final", person: true, answers: []string{denied, good}, reads: 1, errHas: "AADSTS65004"},
		{name: "person, empty line gives up", person: true, answers: []string{"", good}, reads: 1, errIs: ErrNothingPasted},
		{name: "empty line, a stand-in plays the browser", person: true, answers: []string{""}, reads: 1, code: "the-code",
			onEmpty: func() (string, error) { return good, nil }},
		{name: "the stand-in fails", answers: []string{""}, reads: 1, errHas: "the stand-in failed",
			onEmpty: func() (string, error) { return "", errors.New("the stand-in failed") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &lines{answers: tt.answers}
			var out bytes.Buffer
			p := Paste{ReadLine: in.ReadLine, Out: &out, Person: tt.person, StartOver: "ms365auth link --profile work", OnEmpty: tt.onEmpty}
			code, err := p.Code(t.Context(), auth)
			if code != tt.code {
				t.Errorf("code = %q, want %q", code, tt.code)
			}
			if in.read != tt.reads {
				t.Errorf("read %d line(s), want %d", in.read, tt.reads)
			}
			wantErr := tt.errIs != nil || tt.errHas != "" || tt.problem != 0
			if (err != nil) != wantErr {
				t.Fatalf("error = %v, want one: %v", err, wantErr)
			}
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("error = %v, want %v", err, tt.errIs)
			}
			if tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
				t.Errorf("error = %v, want it to contain %q", err, tt.errHas)
			}
			var rue *entra.ReturnedURLError
			if tt.problem != 0 && (!errors.As(err, &rue) || rue.Problem != tt.problem) {
				t.Errorf("error = %v, want the returned URL's problem %v", err, tt.problem)
			}
			rest := out.String()
			for _, part := range tt.out {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Fatalf("told %q; want %q next", out.String(), part)
				}
				rest = rest[i+len(part):]
			}
			if !tt.person && out.Len() > 0 {
				t.Errorf("told %q with no person there", out.String())
			}
		})
	}
}

func TestFixableByPasting(t *testing.T) {
	for p, want := range map[entra.Problem]bool{
		entra.NotAURL: true, entra.AuthorizeURL: true, entra.WrongRedirect: true,
		entra.StateMismatch: true, entra.MissingCode: true, entra.WrongPlace: false,
	} {
		if got := fixableByPasting(&entra.ReturnedURLError{Problem: p}); got != want {
			t.Errorf("fixableByPasting(%v) = %v, want %v", p, got, want)
		}
	}
	if fixableByPasting(errors.New("something else")) {
		t.Error("an error that is not about the returned URL is fixable by pasting")
	}
}
