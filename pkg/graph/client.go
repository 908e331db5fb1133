package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"syscall"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/interrupt"
	"github.com/ms365auth/ms365auth/pkg/retry"
	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Retry policy for 429, 503, 504 and 509 and for failed connections: bounded in
// count and in total wait, so that a cron job is never stuck behind a
// throttled mailbox or a dead network.
const (
	maxAttempts        = 5
	firstBackoff       = time.Second // when no Retry-After came
	DefaultMaxWait     = 2 * time.Minute
	DefaultIdleTimeout = time.Minute
	// bufferLimit is how much of a 2xx answer is read before Do returns:
	// an answer cut before then is tried again; one cut later is an error,
	// as part of it may already be printed.
	bufferLimit = 8 << 20
)

// TokenSource returns the access token to send. renew asks for a new one
// because the resource refused the last (a plain 401).
type TokenSource func(ctx context.Context, renew bool) (string, error)

// Client sends requests with a profile's token.
type Client struct {
	HTTP    *http.Client // nil: http.DefaultClient; its Timeout should be 0 (IdleTimeout bounds each attempt)
	Cloud   Cloud
	Token   TokenSource
	Log     io.Writer     // says when it waits
	MaxWait time.Duration // all waits for one request together; 0: DefaultMaxWait
	// IdleTimeout is how long an attempt may go without data (before the
	// answer's head, or between reads of its body) before it counts as a
	// failed connection; 0: DefaultIdleTimeout.
	IdleTimeout time.Duration
	Sleep       func(context.Context, time.Duration) error
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
// printing (its body already read, at most maxErrorBody bytes).
type HTTPError struct {
	Method string
	URL    string
	Resp   *http.Response
	Body   []byte
	// MaybeApplied: a gateway timed out on a request that is not safe to
	// send twice, so it was not tried again.
	MaybeApplied bool
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %s", e.Method, e.URL, servertext.Clean(e.Resp.Status))
	if summary := ErrorSummary(e.Resp.Header.Get("Content-Type"), e.Body); summary != "" {
		msg += ": " + summary
	}
	if e.MaybeApplied {
		msg += "\n" + e.Method + " is not tried again after a gateway timeout: the request may or may not have been applied; check before sending it again"
	}
	return msg
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

// cutAnswer is a 2xx answer whose body ended early: the request was
// applied, its answer lost.
type cutAnswer struct {
	status string
	err    error
}

func (e *cutAnswer) Error() string {
	return fmt.Sprintf("HTTP %s came, but the answer was cut short (%v)", e.status, e.err)
}

func (e *cutAnswer) Unwrap() error { return e.err }

// ConnectionError is a request that got no complete answer and was not
// (or no longer) tried again.
type ConnectionError struct {
	Method, URL string
	Err         error
	// MaybeApplied: the request may have reached the server, and it is
	// not safe to send twice.
	MaybeApplied bool
}

func (e *ConnectionError) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
	var cut *cutAnswer
	switch {
	case e.MaybeApplied && errors.As(e.Err, &cut):
		msg += "\nthe request was applied, and " + e.Method + " is not sent twice: check its effect rather than sending it again"
	case e.MaybeApplied:
		msg += "\nthe connection failed before the whole answer came, and " + e.Method +
			" is not sent twice: the request may or may not have been applied; check before sending it again"
	}
	return msg
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// errStalled ends an attempt that went IdleTimeout without data.
var errStalled = errors.New("no data came")

// maxErrorBody is how much of an error answer is kept.
const maxErrorBody = 1 << 20

// Do sends req with the token. It tries again, within MaxWait: 429, 503,
// 504 and 509 as Retry-After says (504 only for a request safe to send twice);
// a failed connection with backoff (any request whose connection was never
// made, otherwise only one safe to send twice); a plain 401 once with a
// renewed token; a claims challenge once after AnswerClaims. A 2xx answer
// is returned with its body open (read ahead up to bufferLimit); other
// answers are an *HTTPError, a claims challenge a *ClaimsChallengeError,
// a connection that failed for good a *ConnectionError.
func (c *Client) Do(ctx context.Context, req Request) (*http.Response, error) {
	if err := c.Cloud.check(req.URL); err != nil {
		return nil, err
	}
	renew, renewed, answered := false, false, false
	waited, backoff := time.Duration(0), retry.NewBackoff(firstBackoff)
	for attempt := 1; ; attempt++ {
		token, err := c.Token(ctx, renew)
		if err != nil {
			return nil, err
		}
		renew = false
		resp, err := c.send(ctx, req, token)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			cerr := &ConnectionError{Method: req.Method, URL: req.URL.Redacted(), Err: connectionFailure(err)}
			if !neverSent(err) && !retry.Idempotent(req.Method) {
				cerr.MaybeApplied = true
				return nil, cerr
			}
			if attempt >= maxAttempts || !retryableFailure(err) {
				return nil, cerr
			}
			if err := c.pause(ctx, cerr.Error(), backoff.Next(), &waited); err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				return nil, cerr
			}
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			// Graph documents claims challenges on 403 as well as 401
			// (learn.microsoft.com/graph/errors).
			if claims, ok := entra.ParseClaimsChallenge(resp.Header.Values("WWW-Authenticate")); ok {
				if answered || c.AnswerClaims == nil {
					return nil, &ClaimsChallengeError{Claims: claims}
				}
				if err := c.AnswerClaims(ctx, claims); err != nil {
					return nil, err
				}
				renew, answered = true, true
				continue
			}
		}
		if resp.StatusCode == http.StatusUnauthorized && !renewed {
			renew, renewed = true, true
			continue
		}
		herr := &HTTPError{Method: req.Method, URL: req.URL.Redacted(), Resp: resp, Body: body}
		if resp.StatusCode == http.StatusGatewayTimeout && !retry.Idempotent(req.Method) {
			// The gateway gave up waiting, not the service: it may have
			// done the work.
			herr.MaybeApplied = true
			return nil, herr
		}
		if retryable(resp.StatusCode) && attempt < maxAttempts {
			wait := retryAfter(resp.Header, backoff.Next(), time.Now())
			if err := c.pause(ctx, "Graph answered "+servertext.Clean(resp.Status), wait, &waited); err == nil {
				continue
			} else if ctx.Err() != nil {
				return nil, err
			}
		}
		return nil, herr
	}
}

// pause waits before the next attempt, saying so, unless the wait would
// go beyond MaxWait; then it says it gives up and returns an error.
func (c *Client) pause(ctx context.Context, why string, wait time.Duration, waited *time.Duration) error {
	if *waited+wait > c.maxWait() {
		fmt.Fprintf(c.Log, "%s; waiting %s more would go beyond the %s allowed: giving up\n", why, waitText(wait), c.maxWait())
		return errors.New("out of time")
	}
	when := "now"
	if wait > 0 {
		when = "in " + roundUp(wait).String()
	}
	fmt.Fprintf(c.Log, "%s; trying again %s\n", why, when)
	if err := c.sleep(ctx, wait); err != nil {
		return err
	}
	*waited += wait
	return nil
}

// roundUp is d in whole seconds, rounded up, for messages.
func roundUp(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// waitText says how long a wait is, without the absurd numbers of a
// Retry-After far in the future.
func waitText(d time.Duration) string {
	if d > 24*time.Hour {
		return "more than a day"
	}
	return roundUp(d).String()
}

// send makes one attempt. A 2xx answer's body is read ahead up to
// bufferLimit, so that an answer cut short early fails here and can be
// tried again; an attempt without data for IdleTimeout fails too.
func (c *Client) send(ctx context.Context, req Request, token string) (*http.Response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	actx, cancel := context.WithCancelCause(ctx)
	r, err := http.NewRequestWithContext(actx, req.Method, req.URL.String(), body)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	for k, v := range req.Header {
		r.Header[k] = slices.Clone(v)
	}
	if req.Body != nil && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+token)
	idle := c.idleTimeout()
	timer := time.AfterFunc(idle, func() { cancel(fmt.Errorf("%w for %s", errStalled, idle)) })
	stop := func() { timer.Stop(); cancel(nil) }
	resp, err := c.httpClient().Do(r)
	if err != nil {
		stop()
		return nil, stalled(actx, err)
	}
	wd := &watchedBody{body: resp.Body, ctx: actx, timer: timer, idle: idle, stop: stop}
	resp.Body = wd
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return resp, nil
	}
	head, err := io.ReadAll(io.LimitReader(wd, bufferLimit))
	if err != nil {
		wd.Close()
		return nil, &cutAnswer{status: resp.Status, err: err}
	}
	if len(head) < bufferLimit {
		wd.Close()
		resp.Body = io.NopCloser(bytes.NewReader(head))
		return resp, nil
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), wd), wd}
	return resp, nil
}

// watchedBody is an answer's body whose reads keep the attempt's idle
// timer from firing.
type watchedBody struct {
	body  io.ReadCloser
	ctx   context.Context
	timer *time.Timer
	idle  time.Duration
	stop  func()
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	w.timer.Reset(w.idle)
	if err != nil && err != io.EOF {
		err = stalled(w.ctx, err)
	}
	return n, err
}

func (w *watchedBody) Close() error {
	w.stop()
	return w.body.Close()
}

// stalled names the idle timeout as the cause when it ended the attempt.
func stalled(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, errStalled) {
		return cause
	}
	return err
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

func (c *Client) idleTimeout() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return interrupt.Sleep(ctx, d)
}

// statusBandwidthLimitExceeded is Graph's throttling of bandwidth, to be
// tried again later (learn.microsoft.com/graph/errors).
const statusBandwidthLimitExceeded = 509

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout, statusBandwidthLimitExceeded:
		return true
	}
	return false
}

// neverSent: the connection was never made, so nothing reached the server
// and any request can be sent again.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retryableFailure is a failure of the network, which a later attempt may
// not meet: not a bad certificate or too many redirects.
func retryableFailure(err error) bool {
	var netErr net.Error
	return errors.Is(err, errStalled) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.As(err, &netErr) && netErr.Timeout()
}

// connectionFailure is err without the *url.Error wrapping, which repeats
// the method and URL.
func connectionFailure(err error) error {
	var ue *url.Error
	var cut *cutAnswer
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.As(err, &cut) {
		return cut
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the connection was closed before the whole answer came (%w)", err)
	}
	return err
}

// retryAfter is how long Retry-After asks to wait (retry.After); without
// a usable value it is backoff, as Graph's throttling guidance asks.
func retryAfter(h http.Header, backoff time.Duration, now time.Time) time.Duration {
	if wait, ok := retry.After(h, now); ok {
		return wait
	}
	return backoff
}
