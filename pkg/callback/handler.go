package callback

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// serveHTTP answers one request. The decision order matters:
//
//  1. another path → 404; another method → 405 (GET and POST only: query
//     and form_post response modes; a fragment never reaches a server);
//  2. unreadable parameters → 400, 413 or 415;
//  3. state missing or different → 400, and keep waiting: whatever else the
//     request carries is not trusted;
//  4. a callback was already accepted → 409, outcome unchanged;
//  5. error= → error page (200: the callback itself was well-formed; the
//     failure is the sign-in's), Wait returns the error;
//  6. code= → success page, Wait returns the code;
//  7. neither → 400, and keep waiting.
func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	l.count(func(s *Stats) { s.Requests++ })
	if callbackPath(r.URL.Path) != l.path {
		l.count(func(s *Stats) { s.OtherPath++ })
		render(w, http.StatusNotFound, page{Title: "Not found",
			Paras: []string{"There is nothing here."}})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		render(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed",
			Paras: []string{"This address only receives sign-in responses (GET or POST)."}})
		return
	}
	l.count(func(s *Stats) { s.Callbacks++ })
	params, status := readParams(w, r)
	if status != 0 {
		render(w, status, page{Title: "Unreadable sign-in response",
			Paras: []string{"This request could not be read as a sign-in response, so it was ignored. ms365auth is still waiting."}})
		return
	}
	if !l.stateMatches(params) {
		l.count(func(s *Stats) { s.BadState++ })
		render(w, http.StatusBadRequest, badStatePage)
		return
	}

	// Parsed before taking the lock: it is another package's code.
	entraErr := entra.FromQuery(params)
	code, hasCode := single(params, "code")
	var hint string
	if entraErr != nil && entraErr.Code != 0 {
		hint = entra.Hint(entraErr.Code, l.hint)
	}

	l.mu.Lock()
	if l.finished {
		prior := l.err
		l.mu.Unlock()
		render(w, http.StatusConflict, alreadyPage(prior))
		return
	}
	var p page
	switch {
	case entraErr != nil:
		l.finished, l.err = true, fmt.Errorf("the sign-in failed: %w", entraErr)
		p = errorPage(entraErr, hint)
		status = http.StatusOK
	case hasCode && code != "":
		l.finished, l.result = true, Result{Code: code, Params: params}
		p = successPage
		status = http.StatusOK
	default:
		l.mu.Unlock()
		render(w, http.StatusBadRequest, incompletePage)
		return
	}
	l.mu.Unlock()

	// This connection has nothing more to do; closing it after the page lets
	// the shutdown that follows finish without waiting for an idle timeout.
	w.Header().Set("Connection", "close")
	render(w, status, p)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	close(l.done)
}

func (l *Listener) count(f func(*Stats)) {
	l.mu.Lock()
	f(&l.stats)
	l.mu.Unlock()
}

// stateMatches requires exactly one state value, equal to the one sent. The
// comparison takes constant time so that the state cannot be guessed byte by
// byte.
func (l *Listener) stateMatches(params url.Values) bool {
	got, ok := single(params, "state")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(l.state)) == 1
}

// single returns the value of a parameter that occurs exactly once.
func single(params url.Values, key string) (string, bool) {
	v := params[key]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// readParams returns the callback's parameters: the query of a GET, the
// url-encoded body of a POST (response_mode=form_post). A non-zero status
// says why they could not be read.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, int) {
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest
		}
		return q, 0
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, http.StatusUnsupportedMediaType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return nil, http.StatusRequestEntityTooLarge
		}
		return nil, http.StatusBadRequest
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, http.StatusBadRequest
	}
	return q, 0
}

// page is what the browser shows. No field may ever hold the code or a token.
type page struct {
	Title  string
	Paras  []string
	Detail string // shown verbatim in a box: Entra's error
	Hint   string
	Footer string
}

var (
	successPage = page{
		Title:  "Sign-in received",
		Paras:  []string{"ms365auth received the answer from Microsoft and is finishing the sign-in in the terminal."},
		Footer: "This window can be closed.",
	}
	badStatePage = page{
		Title: "Not the sign-in in progress",
		Paras: []string{
			"This sign-in response does not belong to the sign-in in progress (its state is missing or different), so it was ignored.",
			"ms365auth is still waiting: open the newest sign-in link it printed.",
		},
	}
	incompletePage = page{
		Title: "Incomplete sign-in response",
		Paras: []string{
			"This sign-in response carries neither an authorization code nor an error, so it was ignored.",
			"ms365auth is still waiting: open the sign-in link it printed again.",
		},
	}
)

func errorPage(e *entra.Error, hint string) page {
	return page{
		Title:  "Sign-in failed",
		Paras:  []string{"Microsoft Entra ID ended the sign-in with an error:"},
		Detail: e.Error(),
		Hint:   hint,
		Footer: "ms365auth has stopped waiting, and the terminal says what to do next. This window can be closed.",
	}
}

func alreadyPage(prior error) page {
	text := "This sign-in was already completed; this response changes nothing."
	if prior != nil {
		text = "This sign-in already ended with an error; this response changes nothing. The terminal says what to do next."
	}
	return page{Title: "Sign-in already finished", Paras: []string{text}, Footer: "This window can be closed."}
}

// The page is self-contained: no scripts, images, fonts or links, so that
// nothing is fetched and the callback URL (which holds the code) is never
// sent anywhere as a referrer. Every text in it is escaped. (Built by hand:
// html/template would add a quarter of a megabyte to the binary for six
// fields.)
const pageHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>%s · ms365auth</title>
<style>
body{font-family:system-ui,sans-serif;max-width:38em;margin:3em auto;padding:0 1em;line-height:1.5}
pre{white-space:pre-wrap;padding:.75em;border:1px solid #8888;border-radius:4px}
.hint{border-left:3px solid #8888;padding-left:.75em}
</style>
</head>
<body>
<h1>%s</h1>
`

// html is the page p as a document.
func (p page) html() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, pageHead, html.EscapeString(p.Title), html.EscapeString(p.Title))
	element := func(open, text, close string) {
		if text != "" {
			b.WriteString(open + html.EscapeString(text) + close + "\n")
		}
	}
	for _, para := range p.Paras {
		element("<p>", para, "</p>")
	}
	element("<pre>", p.Detail, "</pre>")
	element(`<p class="hint">`, p.Hint, "</p>")
	element("<p><strong>", p.Footer, "</strong></p>")
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}

// render sends a page with its headers set before the status line is.
func render(w http.ResponseWriter, status int, p page) {
	body := p.html()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'")
	w.WriteHeader(status)
	w.Write(body)
}
