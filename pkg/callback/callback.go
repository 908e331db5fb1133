// Package callback is the listener behind the alternate sign-in method: Entra
// redirects the browser to a redirect URI that ms365auth itself serves, and
// this package receives that one OAuth 2.0 authorization callback, checks its
// state, answers the browser with a small page and hands the code (or Entra's
// error) to the caller. While the caller waits, it can explain to a person
// why nothing usable has arrived yet.
//
// It does not build authorization URLs, redeem codes, store anything or open
// browsers; the flow that uses it does those.
package callback

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// ErrClosed is what Wait returns when Close was called before a callback was
// accepted.
var ErrClosed = errors.New("the callback listener was closed before the sign-in completed")

// Limits on what a browser (or anything else) may send; a real callback is a
// few kilobytes (an authorization code runs to about 1.5 KB).
const (
	maxHeaderBytes = 64 << 10
	maxBodyBytes   = 64 << 10
)

// shutdownTimeout bounds how long Wait and Close wait for pages in flight.
// A variable so that a test can make a stuck shutdown impossible to miss.
var shutdownTimeout = 2 * time.Second

// Config says where the callback arrives and what it must carry.
type Config struct {
	// RedirectURI is the redirect URI registered with Entra and sent in the
	// authorization request, e.g. http://localhost/api/ms365auth (a loopback
	// host without a port: a free port is picked), http://127.0.0.1:8765/cb
	// (fixed port) or https://home.example.com/api/ms365 (behind a reverse
	// proxy; Listen is then required). Its path is the callback path.
	RedirectURI string
	// Listen is the host:port to bind. Empty means the redirect URI's own
	// loopback host and port (port 0 when it has none). "localhost" binds
	// both 127.0.0.1 and ::1; an empty host binds all interfaces.
	Listen string
	// TLSCert and TLSKey are PEM files; when set (both or neither) the
	// listener serves HTTPS itself.
	TLSCert, TLSKey string
	// State is the state sent in the authorization request. Required.
	State string
	// Hint fills in the fix shown on the error page. An empty RedirectURI is
	// replaced by the listener's redirect URI, an empty Method by "alt".
	Hint entra.HintContext
}

// Result is an accepted callback.
type Result struct {
	Code string
	// Params holds every parameter of the callback as received (code, state,
	// session_state, client_info, ...). It contains the code: never log it.
	Params url.Values
}

// Stats counts what reached the listener, so that a caller can tell a person
// whether anything arrived at all (a redirect URI that points elsewhere) or
// only the wrong things (a proxy forwarding another path, an old sign-in).
type Stats struct {
	// Requests counts HTTP requests of any kind that reached the listener,
	// except those net/http refuses itself (oversized headers, plain HTTP
	// to the TLS port).
	Requests  int
	OtherPath int // requests for a path other than the callback path (answered 404)
	Callbacks int // GET or POST requests on the callback path
	BadState  int // callbacks whose state was missing or not the one sent (answered 400)
}

// Listener serves the callback path until one callback is accepted, its
// Wait's context is done, or it is closed.
type Listener struct {
	path        string // callback path; "" is stored as "/"
	state       string
	redirectURI string
	configured  string // Config.RedirectURI, as the app registration holds it
	hint        entra.HintContext
	lns         []net.Listener
	srv         *http.Server
	serving     sync.WaitGroup

	done      chan struct{} // closed once result/err are final and the page is sent
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	stopOnce  sync.Once

	mu       sync.Mutex
	stats    Stats
	finished bool // a callback was accepted (or serving failed); result/err are set
	result   Result
	err      error
	stopping bool
	fresh    map[net.Conn]struct{} // connections that have not sent a request yet
}

// Listen validates cfg and binds at once, so that a busy port is reported
// before the person is sent to sign in.
//
// Binding rules: without cfg.Listen the redirect URI must have a loopback host
// (localhost, 127.0.0.0/8, ::1), and its scheme must match what is served
// (https needs TLSCert and TLSKey, http must not have them). A non-loopback
// redirect URI is reached through a reverse proxy, so cfg.Listen must say
// where the proxy forwards to. "localhost" binds 127.0.0.1 and, on the same
// port, ::1 (IPv4 only when the machine has no IPv6 loopback), because
// browsers resolve localhost to either. A loopback redirect URI without a
// port gets the bound port (Entra ignores loopback ports when matching);
// any other redirect URI is sent unchanged.
func Listen(cfg Config) (*Listener, error) {
	if cfg.State == "" {
		return nil, errors.New("a non-empty state is required to check the callback")
	}
	u, err := url.Parse(cfg.RedirectURI)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("redirect URI %q is not an absolute http or https URL", cfg.RedirectURI)
	}
	if u.Fragment != "" || strings.HasSuffix(cfg.RedirectURI, "#") {
		return nil, fmt.Errorf("redirect URI %q must not contain a fragment (#)", cfg.RedirectURI)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("pass both --tls-cert and --tls-key, or neither")
	}
	useTLS := cfg.TLSCert != ""
	loopback := entra.IsLoopbackHost(u.Hostname())
	host, port, err := bindAddr(cfg, u, loopback, useTLS)
	if err != nil {
		return nil, err
	}

	var tlsConfig *tls.Config
	if useTLS {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("cannot load the TLS certificate and key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	lns, err := bind(host, port)
	if err != nil {
		return nil, bindError(err, host, port, cfg.Listen != "")
	}

	l := &Listener{
		path:        callbackPath(u.Path),
		state:       cfg.State,
		redirectURI: cfg.RedirectURI,
		configured:  cfg.RedirectURI,
		hint:        cfg.Hint,
		lns:         lns,
		done:        make(chan struct{}),
		closed:      make(chan struct{}),
		fresh:       make(map[net.Conn]struct{}),
	}
	if loopback && u.Port() == "" {
		v := *u
		v.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(lns[0].Addr().(*net.TCPAddr).Port))
		l.redirectURI = v.String()
	}
	if l.hint.RedirectURI == "" {
		l.hint.RedirectURI = l.redirectURI
	}
	if l.hint.Method == "" {
		l.hint.Method = "alt"
	}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         l.connState,
		// Failed TLS handshakes and the like are the client's problem; a
		// library must not write to the process's stderr.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	l.serving.Add(len(lns))
	for _, ln := range lns {
		go l.serve(ln, useTLS)
	}
	return l, nil
}

func (l *Listener) serve(ln net.Listener, useTLS bool) {
	defer l.serving.Done()
	var err error
	if useTLS {
		err = l.srv.ServeTLS(ln, "", "")
	} else {
		err = l.srv.Serve(ln)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		// Without this, Wait would block on a listener that can no longer
		// accept anything.
		if l.finish(Result{}, fmt.Errorf("the callback listener stopped: %w", err)) {
			close(l.done)
		}
	}
}

// RedirectURI is the redirect URI to send in the authorization request: the
// configured one, with the bound port filled in when a loopback redirect URI
// had none.
func (l *Listener) RedirectURI() string { return l.redirectURI }

// Addrs are the bound addresses (two for localhost on a machine with IPv6).
func (l *Listener) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(l.lns))
	for i, ln := range l.lns {
		addrs[i] = ln.Addr()
	}
	return addrs
}

// Stats returns the counts so far.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Wait blocks until a callback with the right state carries a code or an
// error, ctx is done, or Close is called; then it shuts the server down
// (letting the page in flight finish) before it returns, so the port is free
// again.
//
// It returns the Result for a code; an error wrapping the *entra.Error for an
// error callback; ctx.Err() when ctx ended first; ErrClosed after Close. A
// callback already being answered when ctx ends or Close is called still
// counts. Calling Wait again returns the same outcome.
func (l *Listener) Wait(ctx context.Context) (Result, error) {
	select {
	case <-l.done:
	case <-ctx.Done():
	case <-l.closed:
	}
	l.shutdown()
	select {
	case <-l.done:
		return l.result, l.err
	default:
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return Result{}, ErrClosed
}

// Close stops the listener and frees its ports; a Wait in progress returns
// ErrClosed unless a callback was already accepted. It is safe to call more
// than once and concurrently with Wait.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	l.shutdown()
	return nil
}

// finish records the outcome; only the first call wins, and it reports
// whether it did, so that its caller closes done.
func (l *Listener) finish(r Result, err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return false
	}
	l.finished, l.result, l.err = true, r, err
	return true
}

// shutdown stops accepting, lets requests in flight complete (bounded by
// shutdownTimeout) and waits for the serving goroutines to end.
func (l *Listener) shutdown() {
	l.stopOnce.Do(func() {
		// Browsers open spare connections that may never carry a request;
		// http.Server.Shutdown waits up to 5 s for those, so drop them now
		// (and any that are accepted from here on: see connState).
		l.mu.Lock()
		l.stopping = true
		for c := range l.fresh {
			c.Close()
		}
		clear(l.fresh)
		l.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := l.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			l.srv.Close()
		}
		l.serving.Wait()
	})
}

func (l *Listener) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case s == http.StateNew && l.stopping:
		c.Close()
	case s == http.StateNew:
		l.fresh[c] = struct{}{}
	default:
		delete(l.fresh, c)
	}
}

// bindAddr decides where to listen: cfg.Listen when given, else the
// redirect URI's own loopback host and port, served with the scheme it names.
func bindAddr(cfg Config, u *url.URL, loopback, useTLS bool) (host string, port int, err error) {
	if cfg.Listen != "" {
		var p string
		host, p, err = net.SplitHostPort(cfg.Listen)
		if err == nil {
			port, err = parsePort(p)
		}
		if err != nil {
			return "", 0, fmt.Errorf("invalid --listen %q: want host:port, e.g. 127.0.0.1:8080", cfg.Listen)
		}
		return host, port, nil
	}
	switch {
	case !loopback:
		return "", 0, fmt.Errorf("--listen is required for redirect URI %s: say where the reverse proxy forwards to, e.g. --listen 127.0.0.1:8080", cfg.RedirectURI)
	case u.Scheme == "https" && !useTLS:
		return "", 0, fmt.Errorf("redirect URI %s is https: pass --tls-cert and --tls-key so the listener can serve it, or register an http://localhost redirect URI", cfg.RedirectURI)
	case u.Scheme == "http" && useTLS:
		return "", 0, fmt.Errorf("redirect URI %s is http, but a TLS certificate was given: use an https redirect URI, or drop --tls-cert and --tls-key", cfg.RedirectURI)
	}
	if port, err = parsePort(u.Port()); err != nil {
		return "", 0, fmt.Errorf("redirect URI %s has an invalid port", cfg.RedirectURI)
	}
	return u.Hostname(), port, nil
}

// bind listens on host:port. "localhost" gets 127.0.0.1 and ::1 on one port;
// an IP literal gets exactly that address family.
func bind(host string, port int) ([]net.Listener, error) {
	if strings.EqualFold(host, "localhost") {
		return bindLocalhost(port)
	}
	network := "tcp"
	if ip := net.ParseIP(host); ip != nil {
		network = "tcp6"
		if ip.To4() != nil {
			network = "tcp4"
		}
	}
	ln, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	return []net.Listener{ln}, nil
}

// bindAttempts is how often a picked port is tried on ::1 before giving up.
const bindAttempts = 5

// bindLocalhost picks the port on 127.0.0.1 first (when port is 0), then
// takes the same port on ::1. A picked port that is busy on ::1 is given up
// for a new one; a fixed port that is busy is an error. Any other failure on
// ::1 means the machine has no IPv6 loopback, and IPv4 alone will do.
func bindLocalhost(port int) ([]net.Listener, error) {
	for attempt := 1; ; attempt++ {
		l4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		p := l4.Addr().(*net.TCPAddr).Port
		l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(p)))
		switch {
		case err == nil:
			return []net.Listener{l4, l6}, nil
		case !isAddrInUse(err):
			return []net.Listener{l4}, nil
		}
		l4.Close()
		if port != 0 {
			return nil, err
		}
		if attempt == bindAttempts {
			return nil, fmt.Errorf("no port was free on both 127.0.0.1 and ::1 after %d tries: %w", bindAttempts, err)
		}
	}
}

// bindError explains a failed bind in terms of what the person can change.
func bindError(err error, host string, port int, fromListen bool) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	switch {
	case isAddrInUse(err) && port != 0 && fromListen:
		return fmt.Errorf("%s is already in use (is another ms365auth sign-in running?): stop it, or pass another --listen address: %w", addr, err)
	case isAddrInUse(err) && port != 0:
		return fmt.Errorf("port %d is already in use (is another ms365auth sign-in running?): stop it, or register and pass another redirect URI with --redirect-uri: %w", port, err)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("not allowed to listen on %s (ports below 1024 need privileges): use a higher port: %w", addr, err)
	}
	return fmt.Errorf("cannot listen on %s: %w", addr, err)
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return p, nil
}

// callbackPath makes "" and "/" alike: Entra returns a redirect URI without a
// path with a trailing slash.
func callbackPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
