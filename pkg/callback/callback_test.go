package callback

import (
	"bufio"
	"context"
	"errors"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ms365auth/ms365auth/pkg/entra"
)

const closedText = "This window can be closed"

func goodQuery(code string) url.Values {
	return url.Values{
		"code":          {code},
		"state":         {testState},
		"session_state": {"6b1c1f3e-0000-4000-8000-000000000001"},
		"client_info":   {"eyJ1aWQiOiJ1IiwidXRpZCI6InQifQ"},
	}
}

// checkPageHeaders checks what every page the listener writes must carry.
func checkPageHeaders(t *testing.T, r response) {
	t.Helper()
	want := map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = r.header.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page headers mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none'", r.header.Get("Content-Security-Policy"))
	}
}

func TestLocalhostPicksPortAndAnswersOnBothFamilies(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/api/ms365auth"})
	p := port(t, l)
	if want := "http://localhost:" + p + "/api/ms365auth"; l.RedirectURI() != want {
		t.Errorf("RedirectURI() = %q, want %q", l.RedirectURI(), want)
	}
	if p == "0" {
		t.Fatalf("port 0 was not replaced by a real port")
	}
	v6 := hasIPv6Loopback()
	var gotAddrs []string
	for _, a := range l.Addrs() {
		gotAddrs = append(gotAddrs, a.String())
	}
	wantAddrs := []string{"127.0.0.1:" + p}
	if v6 {
		wantAddrs = append(wantAddrs, "[::1]:"+p)
	}
	if diff := cmp.Diff(wantAddrs, gotAddrs); diff != "" {
		t.Errorf("Addrs() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Stats{}, l.Stats()); diff != "" {
		t.Errorf("Stats() before any request mismatch (-want +got):\n%s", diff)
	}

	waited := waitAsync(t.Context(), l)
	c := newClient(t, nil)
	// IPv4 answers (with a wrong state, so the sign-in stays open) ...
	bad := get(t, c, withQuery(baseOn(t, l, "127.0.0.1:"+p), url.Values{"code": {"x"}, "state": {"other"}}))
	if bad.status != http.StatusBadRequest {
		t.Errorf("127.0.0.1 with a wrong state: status %d, want 400", bad.status)
	}
	// ... and IPv6 (or, without IPv6, the name itself) takes the callback.
	target := l.RedirectURI()
	if v6 {
		target = baseOn(t, l, "[::1]:"+p)
	} else {
		t.Log("no IPv6 loopback on this machine: the ::1 half is skipped")
	}
	ok := get(t, c, withQuery(target, goodQuery("the-code")))
	if ok.status != http.StatusOK || !strings.Contains(ok.body, closedText) {
		t.Errorf("callback: status %d, body %q; want 200 and %q", ok.status, ok.body, closedText)
	}
	checkPageHeaders(t, ok)

	o := receive(t, waited)
	if o.err != nil {
		t.Fatalf("Wait: %v", o.err)
	}
	if o.res.Code != "the-code" || o.res.Params.Get("session_state") == "" || o.res.Params.Get("client_info") == "" {
		t.Errorf("Wait result = %+v, want code the-code with session_state and client_info", o.res)
	}
	if diff := cmp.Diff(Stats{Requests: 2, Callbacks: 2, BadState: 1}, l.Stats()); diff != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", diff)
	}
}

func TestFixedPortIPv4Only(t *testing.T) {
	p := freePort(t)
	uri := "http://127.0.0.1:" + p + "/api/ms365_calendar"
	l := listen(t, Config{RedirectURI: uri})
	if l.RedirectURI() != uri {
		t.Errorf("RedirectURI() = %q, want it unchanged: %q", l.RedirectURI(), uri)
	}
	if got := len(l.Addrs()); got != 1 || l.Addrs()[0].String() != "127.0.0.1:"+p {
		t.Errorf("Addrs() = %v, want only 127.0.0.1:%s", l.Addrs(), p)
	}
	waited := waitAsync(t.Context(), l)
	r := get(t, newClient(t, nil), withQuery(uri, goodQuery("c1")))
	if r.status != http.StatusOK {
		t.Errorf("status %d, want 200", r.status)
	}
	if o := receive(t, waited); o.err != nil || o.res.Code != "c1" {
		t.Errorf("Wait = %+v, %v; want code c1", o.res, o.err)
	}
}

func TestIPv6LiteralBindsOnlyIPv6(t *testing.T) {
	if !hasIPv6Loopback() {
		t.Skip("no IPv6 loopback on this machine")
	}
	l := listen(t, Config{RedirectURI: "http://[::1]/cb"})
	if got := l.Addrs(); len(got) != 1 || !strings.HasPrefix(got[0].String(), "[::1]:") {
		t.Errorf("Addrs() = %v, want only [::1]", got)
	}
	if want := "http://[::1]:" + port(t, l) + "/cb"; l.RedirectURI() != want {
		t.Errorf("RedirectURI() = %q, want %q", l.RedirectURI(), want)
	}
}

func TestPortInUse(t *testing.T) {
	busy4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy4.Close()
	_, p4, _ := net.SplitHostPort(busy4.Addr().String())

	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"fixed 127.0.0.1 port", Config{RedirectURI: "http://127.0.0.1:" + p4 + "/cb"},
			"port " + p4 + " is already in use (is another ms365auth sign-in running?): stop it, or register and pass another redirect URI with --redirect-uri"},
		{"fixed localhost port", Config{RedirectURI: "http://localhost:" + p4 + "/cb"},
			"port " + p4 + " is already in use"},
		{"--listen address", Config{RedirectURI: "https://home.example.com/cb", Listen: "127.0.0.1:" + p4},
			"127.0.0.1:" + p4 + " is already in use (is another ms365auth sign-in running?): stop it, or pass another --listen address"},
	}
	if hasIPv6Loopback() {
		// 127.0.0.1 is free on this port, but a browser resolving localhost
		// to ::1 would reach someone else.
		busy6, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy6.Close()
		_, p6, _ := net.SplitHostPort(busy6.Addr().String())
		tests = append(tests, struct {
			name string
			cfg  Config
			want string
		}{"localhost port busy on ::1 only", Config{RedirectURI: "http://localhost:" + p6 + "/cb"}, "port " + p6 + " is already in use"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.State = testState
			l, err := Listen(tt.cfg)
			if err == nil {
				l.Close()
				t.Fatalf("Listen succeeded on a busy port")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			// isAddrInUse, not syscall.EADDRINUSE: Windows reports
			// Winsock's own code, which that constant does not match.
			if !isAddrInUse(err) {
				t.Errorf("error %v does not wrap \"address in use\"", err)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no state", Config{RedirectURI: "http://localhost/cb"}, "non-empty state"},
		{"relative URI", Config{RedirectURI: "/cb", State: "s"}, "not an absolute http or https URL"},
		{"other scheme", Config{RedirectURI: "ms-app://cb", State: "s"}, "not an absolute http or https URL"},
		{"fragment", Config{RedirectURI: "http://localhost/cb#x", State: "s"}, "must not contain a fragment"},
		{"non-loopback without --listen", Config{RedirectURI: "https://home.example.com/api/ms365", State: "s"},
			"--listen is required for redirect URI https://home.example.com/api/ms365: say where the reverse proxy forwards to, e.g. --listen 127.0.0.1:8080"},
		{"https loopback without a certificate", Config{RedirectURI: "https://localhost/cb", State: "s"}, "pass --tls-cert and --tls-key"},
		{"http loopback with a certificate", Config{RedirectURI: "http://localhost/cb", State: "s", TLSCert: "c", TLSKey: "k"}, "is http, but a TLS certificate was given"},
		{"certificate without key", Config{RedirectURI: "https://localhost/cb", State: "s", TLSCert: "c"}, "pass both --tls-cert and --tls-key, or neither"},
		{"unreadable certificate", Config{RedirectURI: "https://localhost/cb", State: "s", TLSCert: "/nonexistent/c", TLSKey: "/nonexistent/k"}, "cannot load the TLS certificate"},
		{"--listen without port", Config{RedirectURI: "https://home.example.com/cb", State: "s", Listen: "127.0.0.1"}, "invalid --listen"},
		{"--listen bad port", Config{RedirectURI: "https://home.example.com/cb", State: "s", Listen: "127.0.0.1:99999"}, "invalid --listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Listen(tt.cfg)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%+v) succeeded, want an error containing %q", tt.cfg, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWrongStateKeepsWaiting(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://127.0.0.1/cb"})
	base := l.RedirectURI()
	waited := waitAsync(t.Context(), l)
	c := newClient(t, nil)

	bad := []struct {
		name  string
		query url.Values
	}{
		{"no parameters (fragment response mode)", url.Values{}},
		{"code without state", url.Values{"code": {"stolen"}}},
		{"wrong state", url.Values{"code": {"stolen"}, "state": {"another-sign-in"}}},
		{"state twice", url.Values{"code": {"stolen"}, "state": {testState, "x"}}},
		{"error with wrong state", url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: no"}, "state": {"old"}}},
		{"empty state", url.Values{"code": {"stolen"}, "state": {""}}},
	}
	for _, b := range bad {
		r := get(t, c, withQuery(base, b.query))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "does not belong to the sign-in in progress") {
			t.Errorf("%s: status %d, body %q; want 400 saying it does not belong to the sign-in in progress", b.name, r.status, r.body)
		}
		if strings.Contains(r.body, "stolen") {
			t.Errorf("%s: the page echoes the code", b.name)
		}
		checkPageHeaders(t, r)
	}
	if r := get(t, c, withQuery(base, goodQuery("real"))); r.status != http.StatusOK {
		t.Errorf("right state: status %d, want 200", r.status)
	}
	if o := receive(t, waited); o.err != nil || o.res.Code != "real" {
		t.Errorf("Wait = %+v, %v; want code real (the bad callbacks must not end it)", o.res, o.err)
	}
	if got := l.Stats(); got.BadState != len(bad) || got.Callbacks != len(bad)+1 {
		t.Errorf("Stats() = %+v, want BadState %d and Callbacks %d", got, len(bad), len(bad)+1)
	}
}

func TestErrorCallback(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/api/ms365auth", Hint: entra.HintContext{Tenant: "contoso.onmicrosoft.com"}})
	waited := waitAsync(t.Context(), l)
	q := url.Values{
		"error":             {"access_denied"},
		"error_description": {"AADSTS65004: The user declined to consent to access the app.\r\nTrace ID: 0b7e\r\nCorrelation ID: 9c1d\r\nTimestamp: 2023-08-28 11:25:19Z"},
		"error_uri":         {"https://login.microsoftonline.com/error?code=65004"},
		"state":             {testState},
	}
	r := get(t, newClient(t, nil), withQuery(l.RedirectURI(), q))
	if r.status != http.StatusOK {
		t.Errorf("status %d, want 200", r.status)
	}
	checkPageHeaders(t, r)
	for _, want := range []string{"AADSTS65004", "The user declined to consent to access the app.", closedText} {
		if !strings.Contains(r.body, want) {
			t.Errorf("error page lacks %q:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "Trace ID") {
		t.Errorf("error page shows the trace lines:\n%s", r.body)
	}
	if hint := entra.Hint(65004, entra.HintContext{RedirectURI: l.RedirectURI(), Tenant: "contoso.onmicrosoft.com", Method: "alt"}); hint == "" {
		t.Errorf("entra has no hint for 65004")
	} else if !strings.Contains(r.body, template.HTMLEscapeString(hint)) {
		t.Errorf("error page lacks the hint %q:\n%s", hint, r.body)
	}

	o := receive(t, waited)
	var ee *entra.Error
	if !errors.As(o.err, &ee) {
		t.Fatalf("Wait error = %v, want one wrapping *entra.Error", o.err)
	}
	if ee.Code != 65004 || ee.Err != "access_denied" {
		t.Errorf("entra error = %+v, want access_denied 65004", ee)
	}
	if o.res.Code != "" {
		t.Errorf("Wait returned a code with the error: %q", o.res.Code)
	}
}

func TestFormPost(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/api/ms365auth"})
	waited := waitAsync(t.Context(), l)
	r := postForm(t, newClient(t, nil), l.RedirectURI(), goodQuery("posted-code"))
	if r.status != http.StatusOK || !strings.Contains(r.body, closedText) {
		t.Errorf("status %d, body %q; want 200 and %q", r.status, r.body, closedText)
	}
	if strings.Contains(r.body, "posted-code") {
		t.Errorf("the success page echoes the code")
	}
	o := receive(t, waited)
	if o.err != nil || o.res.Code != "posted-code" || o.res.Params.Get("session_state") == "" {
		t.Errorf("Wait = %+v, %v; want code posted-code with session_state", o.res, o.err)
	}
}

func TestRootPath(t *testing.T) {
	// Entra sends a redirect URI without a path back with a trailing slash.
	for _, uri := range []string{"http://127.0.0.1", "http://127.0.0.1/"} {
		t.Run(uri, func(t *testing.T) {
			l := listen(t, Config{RedirectURI: uri})
			waited := waitAsync(t.Context(), l)
			u := "http://127.0.0.1:" + port(t, l) + "/"
			if r := get(t, newClient(t, nil), withQuery(u, goodQuery("c"))); r.status != http.StatusOK {
				t.Errorf("status %d, want 200", r.status)
			}
			if o := receive(t, waited); o.err != nil {
				t.Errorf("Wait: %v", o.err)
			}
		})
	}
}

// TestRejectedRequests sends everything that must not end the sign-in, then
// the real callback, which must still be accepted.
func TestRejectedRequests(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://127.0.0.1/api/ms365auth"})
	base := l.RedirectURI()
	origin := strings.TrimSuffix(base, "/api/ms365auth")
	state := "state=" + testState

	tests := []struct {
		name        string
		method      string
		url         string
		contentType string
		body        string
		wantStatus  int
		wantAllow   string
		goPage      bool // answered by net/http itself, not by a page of ours
	}{
		{name: "root path", method: "GET", url: origin + "/?code=x&" + state, wantStatus: 404},
		{name: "favicon", method: "GET", url: origin + "/favicon.ico", wantStatus: 404},
		{name: "trailing slash", method: "GET", url: base + "/?code=x&" + state, wantStatus: 404},
		{name: "other case", method: "GET", url: origin + "/API/ms365auth?code=x&" + state, wantStatus: 404},
		{name: "probe", method: "GET", url: origin + "/.env", wantStatus: 404},
		{name: "PUT", method: "PUT", url: base + "?code=x&" + state, wantStatus: 405, wantAllow: "GET, POST"},
		{name: "DELETE", method: "DELETE", url: base, wantStatus: 405, wantAllow: "GET, POST"},
		{name: "HEAD", method: "HEAD", url: base + "?code=x&" + state, wantStatus: 405, wantAllow: "GET, POST"},
		{name: "bad escape", method: "GET", url: base + "?code=%zz&" + state, wantStatus: 400},
		{name: "semicolon", method: "GET", url: base + "?code=x;" + state, wantStatus: 400},
		{name: "no code, no error", method: "GET", url: base + "?session_state=s&" + state, wantStatus: 400},
		{name: "empty code", method: "GET", url: base + "?code=&" + state, wantStatus: 400},
		{name: "code twice", method: "GET", url: base + "?code=a&code=b&" + state, wantStatus: 400},
		{name: "empty error", method: "GET", url: base + "?error=&" + state, wantStatus: 400},
		{name: "POST text/plain", method: "POST", url: base, contentType: "text/plain", body: "code=x&" + state, wantStatus: 415},
		{name: "POST multipart", method: "POST", url: base, contentType: "multipart/form-data; boundary=x", body: "--x--", wantStatus: 415},
		{name: "POST no content type", method: "POST", url: base, body: "code=x&" + state, wantStatus: 415},
		{name: "POST bad encoding", method: "POST", url: base, contentType: "application/x-www-form-urlencoded", body: "code=%zz&" + state, wantStatus: 400},
		{name: "POST huge body", method: "POST", url: base, contentType: "application/x-www-form-urlencoded", body: state + "&code=" + strings.Repeat("A", 200<<10), wantStatus: 413},
		{name: "huge query", method: "GET", url: base + "?" + state + "&code=" + strings.Repeat("A", 200<<10), wantStatus: 431, goPage: true},
	}
	waited := waitAsync(t.Context(), l)
	c := newClient(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			r := do(t, c, req)
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d", r.status, tt.wantStatus)
			}
			if got := r.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if !tt.goPage {
				checkPageHeaders(t, r)
			}
		})
	}
	if r := get(t, c, withQuery(base, goodQuery("finally"))); r.status != http.StatusOK {
		t.Errorf("the real callback: status %d, want 200", r.status)
	}
	if o := receive(t, waited); o.err != nil || o.res.Code != "finally" {
		t.Errorf("Wait = %+v, %v; want code finally", o.res, o.err)
	}
	if got := l.Stats(); got.OtherPath != 5 || got.BadState != 0 {
		t.Errorf("Stats() = %+v, want OtherPath 5 and BadState 0", got)
	}
}

func TestSecondCallback(t *testing.T) {
	tests := []struct {
		name      string
		first     url.Values
		wantFirst int
		wantText  string
	}{
		{"after success", goodQuery("first"), http.StatusOK, "already completed"},
		{"after an error", url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: declined"}, "state": {testState}},
			http.StatusOK, "already ended with an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := listen(t, Config{RedirectURI: "http://localhost/cb"})
			c := newClient(t, nil)
			// Nobody waits yet, so the server keeps answering.
			if r := get(t, c, withQuery(l.RedirectURI(), tt.first)); r.status != tt.wantFirst {
				t.Errorf("first callback: status %d, want %d", r.status, tt.wantFirst)
			}
			for _, q := range []url.Values{goodQuery("second"), tt.first} {
				r := get(t, c, withQuery(l.RedirectURI(), q))
				if r.status != http.StatusConflict || !strings.Contains(r.body, tt.wantText) {
					t.Errorf("later callback: status %d, body %q; want 409 and %q", r.status, r.body, tt.wantText)
				}
			}
			// A later callback with a wrong state is still just that.
			if r := get(t, c, withQuery(l.RedirectURI(), url.Values{"code": {"x"}, "state": {"y"}})); r.status != http.StatusBadRequest {
				t.Errorf("later callback with a wrong state: status %d, want 400", r.status)
			}
			res, err := l.Wait(t.Context())
			if tt.first.Has("code") {
				if err != nil || res.Code != "first" {
					t.Errorf("Wait = %+v, %v; want the first code", res, err)
				}
			} else if _, ok := errors.AsType[*entra.Error](err); !ok {
				t.Errorf("Wait error = %v, want the first callback's entra error", err)
			}
			// Wait is repeatable.
			res2, err2 := l.Wait(t.Context())
			if res2.Code != res.Code || !errors.Is(err2, err) {
				t.Errorf("second Wait = %+v, %v; want %+v, %v", res2, err2, res, err)
			}
		})
	}
}

func TestWaitDeadlineFreesPort(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/cb"})
	addrs := l.Addrs()
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := l.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait error = %v, want context.DeadlineExceeded", err)
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a.String())
		if err != nil {
			t.Errorf("after Wait returned, %s is still taken: %v", a, err)
			continue
		}
		ln.Close()
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after Wait: %v", err)
	}
}

func TestCloseEndsWait(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/cb"})
	waited := waitAsync(context.Background(), l)
	// A request that was answered proves the server runs before Close.
	if r := get(t, newClient(t, nil), "http://"+l.Addrs()[0].String()+"/nothing"); r.status != http.StatusNotFound {
		t.Fatalf("status %d, want 404", r.status)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if o := receive(t, waited); !errors.Is(o.err, ErrClosed) {
		t.Errorf("Wait error = %v, want ErrClosed", o.err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
	if diff := cmp.Diff(Stats{Requests: 1, OtherPath: 1}, l.Stats()); diff != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", diff)
	}
}

func TestTLS(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t, t.TempDir())
	l := listen(t, Config{RedirectURI: "https://localhost/api/ms365auth", TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(l.RedirectURI(), "https://localhost:") {
		t.Errorf("RedirectURI() = %q, want https://localhost:<port>/...", l.RedirectURI())
	}
	waited := waitAsync(t.Context(), l)
	addr := l.Addrs()[0].String()

	// Plain HTTP to the TLS port is refused by net/http, not crashed on.
	plain := get(t, newClient(t, nil), "http://"+addr+"/api/ms365auth?"+goodQuery("plain").Encode())
	if plain.status != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port: status %d, want 400", plain.status)
	}
	// Garbage instead of a handshake, and a client that does not trust the
	// certificate: both fail on their side only.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	raw.Write([]byte("\x16\x03\x01\x00\x05garbage that is no ClientHello\r\n\r\n"))
	io.Copy(io.Discard, raw) // the server hangs up
	raw.Close()
	if _, err := newClient(t, nil).Get(l.RedirectURI()); err == nil {
		t.Errorf("a client without the certificate connected")
	}

	req, err := http.NewRequest(http.MethodGet, withQuery(l.RedirectURI(), goodQuery("tls-code")), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, roots)
	// Browsers speak HTTP/2 over TLS.
	c.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("TLS callback: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.TLS == nil || resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), closedText) {
		t.Errorf("TLS callback: TLS %v, %s, status %d, body %q; want TLS, HTTP/2, 200", resp.TLS != nil, resp.Proto, resp.StatusCode, body)
	}
	if o := receive(t, waited); o.err != nil || o.res.Code != "tls-code" {
		t.Errorf("Wait = %+v, %v; want code tls-code", o.res, o.err)
	}
}

func TestReverseProxy(t *testing.T) {
	const uri = "https://home.example.com/api/ms365"
	l := listen(t, Config{RedirectURI: uri, Listen: "127.0.0.1:0"})
	if l.RedirectURI() != uri {
		t.Errorf("RedirectURI() = %q, want it unchanged: %q", l.RedirectURI(), uri)
	}
	waited := waitAsync(t.Context(), l)
	c := newClient(t, nil)
	local := "http://" + l.Addrs()[0].String()
	send := func(path string, q url.Values) response {
		req, err := http.NewRequest(http.MethodGet, withQuery(local+path, q), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "home.example.com" // what the proxy passes on
		return do(t, c, req)
	}
	if r := send("/api/ms365_calendar", goodQuery("x")); r.status != http.StatusNotFound {
		t.Errorf("old integration path: status %d, want 404", r.status)
	}
	if r := send("/api/ms365", goodQuery("proxied")); r.status != http.StatusOK {
		t.Errorf("callback path: status %d, want 200", r.status)
	}
	if o := receive(t, waited); o.err != nil || o.res.Code != "proxied" {
		t.Errorf("Wait = %+v, %v; want code proxied", o.res, o.err)
	}
}

// TestSpareConnectionDoesNotHoldShutdown: browsers open connections they may
// never use. Wait must still return, without the forced close that ends a
// shutdown past its deadline, and such a connection is hung up on. (How soon
// it returns is measured by BenchmarkCallback/spare-connection.)
func TestSpareConnectionDoesNotHoldShutdown(t *testing.T) {
	defer func(d time.Duration) { shutdownTimeout = d }(shutdownTimeout)
	shutdownTimeout = time.Hour
	l := listen(t, Config{RedirectURI: "http://127.0.0.1/cb"})
	spare, err := net.Dial("tcp", l.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	waited := waitAsync(t.Context(), l)
	if r := get(t, newClient(t, nil), withQuery(l.RedirectURI(), goodQuery("c"))); r.status != http.StatusOK {
		t.Errorf("status %d, want 200", r.status)
	}
	if o := receive(t, waited); o.err != nil {
		t.Errorf("Wait: %v", o.err)
	}
	spare.SetReadDeadline(time.Now().Add(readyDeadline))
	if _, err := bufio.NewReader(spare).ReadByte(); err != io.EOF {
		t.Errorf("reading the spare connection after Wait: %v, want EOF", err)
	}
}
