package entrasim

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// Pages carry machine-readable markers (a meta tag with the AADSTS code, the
// form id) so that the browser double can tell them apart; people see text.

// pageStyle makes the pages look like sign-in pages in a real browser (and
// in the screenshots tests keep).
const pageStyle = `<style>
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{background:#fff;max-width:440px;margin:6em auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 12px}
label{display:block;margin-top:16px;font-size:.9rem}
input[type=email],input[type=password],input[type=text]{display:block;width:100%;box-sizing:border-box;border:0;border-bottom:1px solid #666;padding:6px 0;font-size:1rem}
button{margin-top:24px;margin-right:8px;min-width:108px;padding:6px 12px;border:0;background:#0067b8;color:#fff;font-size:1rem}
button.secondary{background:#ccc;color:#1b1b1b}
.error{color:#e81123}
.note{color:#666;font-size:.85rem}
ul#permissions li{margin:6px 0}
</style>`

const pageHead = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>%s%s</head>
<body><main>
`

func writePage(w http.ResponseWriter, status int, title, meta, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	fmt.Fprintf(w, pageHead, html.EscapeString(title), meta, pageStyle)
	fmt.Fprint(w, body, "\n</main></body></html>\n")
}

// writeErrorPage shows an error on the double's own page, as Entra does when
// it cannot trust the redirect URI.
func (s *Server) writeErrorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	m := newMeta(r, s.now())
	body := fmt.Sprintf(`<h1>Sign in</h1>
<p>Sorry, but we're having trouble signing you in.</p>
<p id="message">AADSTS%d: %s</p>
<dl><dt>Request Id</dt><dd>%s</dd><dt>Correlation Id</dt><dd>%s</dd><dt>Timestamp</dt><dd>%s</dd></dl>
<p><a href="%s">More about this error</a></p>`,
		e.code, html.EscapeString(e.msg), m.traceID, m.correlationID, m.at.Format(timestampLayout),
		html.EscapeString(s.errorURI(e.code)))
	writePage(w, http.StatusBadRequest, "Sign in to your account",
		fmt.Sprintf(`<meta name="aadsts" content="%d">`, e.code), body)
}

const formPostID = "entrasim-form-post"

// writeFormPost answers response_mode=form_post: a page whose form posts the
// parameters to the redirect URI by itself.
func writeFormPost(w http.ResponseWriter, target string, params [][2]string) {
	var b strings.Builder
	fmt.Fprintf(&b, `<form method="POST" name="hiddenform" id="%s" action="%s">`+"\n", formPostID, html.EscapeString(target))
	for _, p := range params {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`+"\n", html.EscapeString(p[0]), html.EscapeString(p[1]))
	}
	b.WriteString(`<noscript><p>Script is disabled. Press Continue to carry on.</p><input type="submit" value="Continue"></noscript>
</form>
<script>document.forms[0].submit();</script>`)
	writePage(w, http.StatusOK, "Working...", "", b.String())
}

// serveBlank is the nativeclient landing page: blank, the address bar is
// what matters.
func serveBlank(w http.ResponseWriter, r *http.Request) {
	writePage(w, http.StatusOK, "", "", "")
}

// serveWrongPlace imitates the dead end some sign-ins end on instead of the
// redirect URI.
func serveWrongPlace(w http.ResponseWriter, r *http.Request) {
	writePage(w, http.StatusOK, "Dead end", `<meta name="entrasim" content="wrongplace">`,
		`<h1>This page leads nowhere</h1>
<p>The sign-in finished somewhere the application is not listening. Nothing here can be used to continue.</p>`)
}

// serveErrorPage is /error?code=n, where error_uri links point.
func (s *Server) serveErrorPage(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.URL.Query().Get("code"))
	if err != nil {
		writePage(w, http.StatusOK, "Error lookup", "", `<h1>Error lookup</h1><p>Add ?code=NNNN to look an AADSTS code up.</p>`)
		return
	}
	text, ok := errorPageTexts[code]
	if !ok {
		text = "The double has no description for this code."
	}
	writePage(w, http.StatusOK, fmt.Sprintf("AADSTS%d", code), "",
		fmt.Sprintf(`<h1>AADSTS%d</h1><p>%s</p>`, code, html.EscapeString(text)))
}

// serveDeviceLogin is /devicelogin: GET shows a form for the user code, POST
// with code and action=approve|decline completes it, so that a browser or a
// plain HTTP client can play the person.
func (s *Server) serveDeviceLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writePage(w, http.StatusOK, "Enter code", "", fmt.Sprintf(`<h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
<form method="POST" action="/devicelogin">
<input name="code" value="%s" autocomplete="off">
<button name="action" value="approve">Continue</button>
<button name="action" value="decline">Cancel</button>
</form>`, html.EscapeString(r.URL.Query().Get("code"))))
	case http.MethodPost:
		r.ParseForm()
		var err error
		switch r.PostForm.Get("action") {
		case "approve":
			err = s.ApproveDevice(r.PostForm.Get("code"))
		case "decline":
			err = s.DeclineDevice(r.PostForm.Get("code"))
		default:
			writePage(w, http.StatusBadRequest, "Enter code", "", `<p>Choose approve or decline.</p>`)
			return
		}
		if pe, ok := err.(*PageError); ok {
			s.writeErrorPage(w, r, &aadError{code: pe.Code, msg: pe.Message})
			return
		}
		if r.PostForm.Get("action") == "approve" {
			writePage(w, http.StatusOK, "Signed in", "", `<h1>You're signed in</h1><p>You have signed in to the application on your device. You may now close this window.</p>`)
		} else {
			writePage(w, http.StatusOK, "Cancelled", "", `<h1>Sign-in cancelled</h1><p>You declined to sign in to the application on your device. You may now close this window.</p>`)
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
