package entratest

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
)

// ErrFormPost is returned by Authorize when the sign-in ends in a
// response_mode=form_post page: there is no URL to return, the parameters
// travel in a POST body. FollowSignIn delivers such a POST.
var ErrFormPost = errors.New("entratest: the sign-in ends in a form_post page; use FollowSignIn to deliver it")

// Authorize plays a person's browser on the sign-in link authURL. It GETs
// authURL, follows redirects while they stay on the double, and returns the
// URL where the browser ends up, without requesting it when it is elsewhere
// (login.microsoftonline.com/common/oauth2/nativeclient, a loopback
// listener...): that is the URL a person would copy from the address bar,
// fragment included. When the journey ends on one of the double's own pages
// (its nativeclient page, the wrong-place page) that page's URL is returned.
// Errors Entra shows on its own page come back as *PageError; a form_post
// ending as ErrFormPost.
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

const maxHops = 10

func (s *Server) walk(ctx context.Context, authURL string) (walkResult, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cur := authURL
	for range maxHops {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cur, nil)
		if err != nil {
			return walkResult{}, err
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
			cur = next
		case resp.StatusCode == http.StatusOK:
			return walkResult{url: cur, page: resp, form: parseFormPost(body)}, nil
		default:
			if pe := parsePageError(body); pe != nil {
				return walkResult{}, pe
			}
			return walkResult{}, fmt.Errorf("sign-in page %s answered %s", req.URL.Redacted(), resp.Status)
		}
	}
	return walkResult{}, fmt.Errorf("sign-in stopped after %d redirects", maxHops)
}

func (s *Server) onServer(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, s.base.Scheme) && strings.EqualFold(u.Host, s.base.Host)
}

var (
	metaAADSTS = regexp.MustCompile(`<meta name="aadsts" content="(\d+)">`)
	pageMsg    = regexp.MustCompile(`<p id="message">AADSTS\d+: ([^<]*)</p>`)
	formAction = regexp.MustCompile(`<form method="POST" name="hiddenform" id="` + formPostID + `" action="([^"]*)">`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// parsePageError reads the double's own error page.
func parsePageError(body []byte) *PageError {
	m := metaAADSTS.FindSubmatch(body)
	if m == nil {
		return nil
	}
	code, _ := strconv.Atoi(string(m[1]))
	pe := &PageError{Code: code}
	if msg := pageMsg.FindSubmatch(body); msg != nil {
		pe.Message = html.UnescapeString(string(msg[1]))
	}
	return pe
}

// parseFormPost reads the double's form_post page.
func parseFormPost(body []byte) *postedForm {
	m := formAction.FindSubmatch(body)
	if m == nil {
		return nil
	}
	f := &postedForm{action: html.UnescapeString(string(m[1])), values: url.Values{}}
	for _, in := range formInput.FindAllSubmatch(body, -1) {
		f.values.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
	}
	return f
}
