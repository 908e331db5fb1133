package entrasim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ErrFormPost is returned by Authorize when the sign-in ends in a
// response_mode=form_post page: there is no URL to return, the parameters
// travel in a POST body. FollowSignIn delivers such a POST.
var ErrFormPost = errors.New("entrasim: the sign-in ends in a form_post page; use FollowSignIn to deliver it")

// Authorize plays a person's browser on the sign-in link authURL. It GETs
// authURL, follows redirects while they stay on the double, and returns the
// URL where the browser ends up, without requesting it when it is elsewhere
// (login.microsoftonline.com/common/oauth2/nativeclient, a loopback
// listener...): that is the URL a person would copy from the address bar,
// fragment included. When the journey ends on one of the double's own pages
// (its nativeclient page, the wrong-place page) that page's URL is returned.
// Errors Entra shows on its own page come back as *PageError; a form_post
// ending as ErrFormPost. In interactive mode (SetInteractive) it fills the
// sign-in pages in as the SignInAs user: their Password, MFACode, Accept;
// an error shown on one of those pages comes back as *PageError too.
func (s *Server) Authorize(ctx context.Context, authURL string) (returnedURL string, err error) {
	res, err := s.walk(ctx, authURL)
	if err != nil {
		return "", err
	}
	if res.form != nil {
		return "", ErrFormPost
	}
	return res.url, nil
}

// FollowSignIn is Authorize carried through to the end: it delivers the
// final redirect (GET) or form_post (POST of the hidden form) to its target
// with client (http.DefaultClient when nil) and returns that response, as a
// browser would load the app's page. Use it to drive loopback listeners.
// When the journey ends on one of the double's own pages, that page's
// response is returned. The caller closes the response body.
func (s *Server) FollowSignIn(ctx context.Context, authURL string, client *http.Client) (*http.Response, error) {
	res, err := s.walk(ctx, authURL)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	switch {
	case res.form != nil:
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, res.form.action, strings.NewReader(res.form.values.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return client.Do(req)
	case res.offServer:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.url, nil)
		if err != nil {
			return nil, err
		}
		return client.Do(req)
	}
	return res.page, nil
}

// walkResult is where a sign-in journey ended.
type walkResult struct {
	url       string         // the final URL, as the address bar shows it
	offServer bool           // url is not on the double and was not requested
	page      *http.Response // the double's final page, body buffered
	form      *postedForm    // set when the page is a form_post
}

type postedForm struct {
	action string
	values url.Values
}

// maxHops bounds the requests of one journey: redirects and, in
// interactive mode, the three sign-in pages.
const maxHops = 12

func (s *Server) walk(ctx context.Context, authURL string) (walkResult, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	method, cur, form := http.MethodGet, authURL, ""
	for range maxHops {
		req, err := http.NewRequestWithContext(ctx, method, cur, strings.NewReader(form))
		if err != nil {
			return walkResult{}, err
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			return walkResult{}, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return walkResult{}, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc := resp.Header.Get("Location")
			target, err := req.URL.Parse(loc)
			if err != nil {
				return walkResult{}, fmt.Errorf("bad redirect %q: %w", loc, err)
			}
			next := loc
			if !target.IsAbs() {
				next = target.String()
			}
			if !s.onServer(target) {
				return walkResult{url: next, offServer: true}, nil
			}
			method, cur, form = http.MethodGet, next, ""
		case resp.StatusCode == http.StatusOK:
			step := stepMarker().FindSubmatch(body)
			if step == nil {
				return walkResult{url: cur, page: resp, form: parseFormPost(body)}, nil
			}
			// An interactive sign-in page: fill it in as the person would.
			if pe := parseStepError(body); pe != nil {
				return walkResult{}, pe
			}
			m := stepAction().FindSubmatch(body)
			if m == nil {
				return walkResult{}, fmt.Errorf("sign-in page %s has no form", req.URL.Redacted())
			}
			action, err := req.URL.Parse(html.UnescapeString(string(m[1])))
			if err != nil {
				return walkResult{}, err
			}
			values := url.Values{}
			for _, in := range formInput().FindAllSubmatch(body, -1) {
				values.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
			}
			s.fillStep(string(step[1]), values)
			method, cur, form = http.MethodPost, action.String(), values.Encode()
		default:
			if pe := parsePageError(body); pe != nil {
				return walkResult{}, pe
			}
			return walkResult{}, fmt.Errorf("sign-in page %s answered %s", req.URL.Redacted(), resp.Status)
		}
	}
	return walkResult{}, fmt.Errorf("sign-in stopped after %d requests", maxHops)
}

// fillStep answers an interactive sign-in page as the SignInAs user:
// their password, the MFA code, Accept.
func (s *Server) fillStep(step string, values url.Values) {
	s.mu.Lock()
	u := s.users[s.signedIn]
	s.mu.Unlock()
	switch step {
	case "credentials":
		values.Set("username", u.Username)
		values.Set("password", u.Password)
	case "mfa":
		values.Set("otp", MFACode)
	case "consent":
		values.Set("action", "accept")
	}
}

func (s *Server) onServer(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, s.base.Scheme) && strings.EqualFold(u.Host, s.base.Host)
}

var (
	metaAADSTS = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<meta name="aadsts" content="(\d+)">`) })
	pageMsg    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<p id="message">AADSTS\d+: ([^<]*)</p>`) })
	formAction = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<form method="POST" name="hiddenform" id="` + formPostID + `" action="([^"]*)">`)
	})
	formInput = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	})
	stepMarker = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<meta name="entrasim-step" content="(\w+)">`) })
	stepAction = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<form method="POST" id="step-form" action="([^"]*)">`)
	})
	stepError = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<p id="error" role="alert" class="error">AADSTS(\d+): ([^<]*)</p>`)
	})
)

// parseStepError reads the error an interactive sign-in page shows.
func parseStepError(body []byte) *PageError {
	m := stepError().FindSubmatch(body)
	if m == nil {
		return nil
	}
	code, _ := strconv.Atoi(string(m[1]))
	return &PageError{Code: code, Message: html.UnescapeString(string(m[2]))}
}

// parsePageError reads the double's own error page.
func parsePageError(body []byte) *PageError {
	m := metaAADSTS().FindSubmatch(body)
	if m == nil {
		return nil
	}
	code, _ := strconv.Atoi(string(m[1]))
	pe := &PageError{Code: code}
	if msg := pageMsg().FindSubmatch(body); msg != nil {
		pe.Message = html.UnescapeString(string(msg[1]))
	}
	return pe
}

// parseFormPost reads the double's form_post page.
func parseFormPost(body []byte) *postedForm {
	m := formAction().FindSubmatch(body)
	if m == nil {
		return nil
	}
	f := &postedForm{action: html.UnescapeString(string(m[1])), values: url.Values{}}
	for _, in := range formInput().FindAllSubmatch(body, -1) {
		f.values.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
	}
	return f
}
