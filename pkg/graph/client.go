package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/interrupt"
)

// Retry policy for 429, 503 and 504: bounded in count and in total wait,
// so that a cron job is never stuck behind a throttled mailbox.
const (
	maxAttempts    = 5
	firstBackoff   = time.Second // when no Retry-After came
	DefaultMaxWait = 2 * time.Minute
)

// TokenSource returns the access token to send. renew asks for a new one
// because the resource refused the last (a plain 401).
type TokenSource func(ctx context.Context, renew bool) (string, error)

// Client sends requests with a profile's token.
type Client struct {
	HTTP    *http.Client // nil: http.DefaultClient
	Cloud   Cloud
	Token   TokenSource
	Log     io.Writer     // says when it waits
	MaxWait time.Duration // all waits for one request together; 0: DefaultMaxWait
	Sleep   func(context.Context, time.Duration) error
	// AnswerClaims signs in with a claims challenge's claims; the request
	// is then tried once more with a renewed token. nil: challenges fail.
	AnswerClaims func(ctx context.Context, claims string) error
}

// Request is one Graph request; Body is resent on a retry.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte // nil: none
}

// HTTPError is a final answer outside 2xx; the response is kept for
// printing (its body already read).
type HTTPError struct {
	Method string
	URL    string
	Resp   *http.Response
	Body   []byte
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %s", e.Method, e.URL, e.Resp.Status)
}

// ClaimsChallengeError is a 401 whose WWW-Authenticate asks for a token
// with more claims (Continuous Access Evaluation, Conditional Access
// authentication contexts): only a new sign-in with them can answer it.
type ClaimsChallengeError struct {
	Claims string // the claims request JSON, for the authorize request
}

func (e *ClaimsChallengeError) Error() string {
	return "the resource asked for a new sign-in (a claims challenge: the session was revoked or a policy wants more proof)"
}

// Do sends req with the token, retrying 429, 503 and 504 as Retry-After
// says, a plain 401 once with a renewed token, and a claims challenge once
// after AnswerClaims. A 2xx answer is returned
// with its body open; other answers are an *HTTPError, a claims challenge
// a *ClaimsChallengeError.
func (c *Client) Do(ctx context.Context, req Request) (*http.Response, error) {
	if err := c.Cloud.check(req.URL); err != nil {
		return nil, err
	}
	renew, renewed, answered := false, false, false
	waited, backoff := time.Duration(0), firstBackoff
	for attempt := 1; ; attempt++ {
		token, err := c.Token(ctx, renew)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, req, token)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			if claims, ok := ParseClaimsChallenge(resp.Header.Values("WWW-Authenticate")); ok {
				if answered || c.AnswerClaims == nil {
					return nil, &ClaimsChallengeError{Claims: claims}
				}
				if err := c.AnswerClaims(ctx, claims); err != nil {
					return nil, err
				}
				renew, answered = true, true
				continue
			}
			if !renewed {
				renew, renewed = true, true
				continue
			}
		}
		renew = false
		if retryable(resp.StatusCode) && attempt < maxAttempts {
			wait := retryAfter(resp.Header.Get("Retry-After"), backoff, time.Now())
			if waited+wait <= c.maxWait() {
				fmt.Fprintf(c.Log, "Graph answered %s; trying again in %s\n", resp.Status, wait.Round(time.Second))
				if err := c.sleep(ctx, wait); err != nil {
					return nil, err
				}
				waited += wait
				backoff *= 2
				continue
			}
			fmt.Fprintf(c.Log, "Graph answered %s and asked to wait %s, more than the %s allowed: giving up\n", resp.Status, wait.Round(time.Second), c.maxWait())
		}
		return nil, &HTTPError{Method: req.Method, URL: req.URL.Redacted(), Resp: resp, Body: body}
	}
}

func (c *Client) send(ctx context.Context, req Request, token string) (*http.Response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL.String(), body)
	if err != nil {
		return nil, err
	}
	for k, v := range req.Header {
		r.Header[k] = slices.Clone(v)
	}
	if req.Body != nil && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+token)
	return c.httpClient().Do(r)
}

// httpClient follows redirects, but sends the token only to allowed hosts
// (Graph answers some downloads with a redirect to storage elsewhere).
func (c *Client) httpClient() *http.Client {
	base := c.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	hc := *base
	hc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if c.Cloud.check(r.URL) != nil {
			r.Header.Del("Authorization")
		}
		return nil
	}
	return &hc
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return DefaultMaxWait
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return interrupt.Sleep(ctx, d)
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// retryAfter reads Retry-After (seconds or an HTTP date); without one it
// is the backoff.
func retryAfter(v string, backoff time.Duration, now time.Time) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return backoff
}

// ParseClaimsChallenge finds error="insufficient_claims" with a claims
// parameter in WWW-Authenticate values, and returns the claims JSON (sent
// base64-encoded in the header).
func ParseClaimsChallenge(values []string) (string, bool) {
	for _, v := range values {
		params := authParams(v)
		if params["error"] != "insufficient_claims" || params["claims"] == "" {
			continue
		}
		if claims, err := entra.DecodeClaims(params["claims"]); err == nil {
			return claims, true
		}
	}
	return "", false
}

// authParams reads the name=value and name="quoted value" parameters of
// one WWW-Authenticate challenge (RFC 9110 section 11.2); names lower-cased.
func authParams(v string) map[string]string {
	out := map[string]string{}
	if i := strings.IndexByte(v, ' '); i >= 0 && !strings.Contains(v[:i], "=") {
		v = v[i+1:] // the scheme, e.g. Bearer
	}
	for v = strings.TrimSpace(v); v != ""; {
		name, rest, ok := strings.Cut(v, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.Trim(name, " ,"))
		rest = strings.TrimLeft(rest, " ")
		var value string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			value, rest = b.String(), rest[min(i+1, len(rest)):]
		} else {
			value, rest, _ = strings.Cut(rest, ",")
			value = strings.TrimSpace(value)
		}
		out[name] = value
		v = strings.TrimLeft(rest, " ,")
	}
	return out
}
