package callback

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNothingArrived(t *testing.T) {
	const listening = "http://localhost:49152/api/ms365auth"
	const registered = "http://localhost/api/ms365auth"
	tests := []struct {
		name  string
		stats Stats
		final bool
		want  string
	}{
		{"nothing, waiting", Stats{}, false,
			"nothing has reached " + listening + " yet; check that the redirect URI http://localhost/api/ms365auth is registered for the app (the port is ignored: register it without one), and that no proxy or firewall stands between the browser and this machine"},
		{"nothing, at the timeout", Stats{}, true,
			"check that the redirect URI http://localhost/api/ms365auth is registered for the app (the port is ignored: register it without one), and that no proxy or firewall stands between the browser and this machine"},
		{"other paths only", Stats{Requests: 2, OtherPath: 2}, false,
			"2 request(s) reached the listener, none on the callback path; check the path of the registered redirect URI and the proxy's forwarding"},
		{"another sign-in's callbacks", Stats{Requests: 3, OtherPath: 1, Callbacks: 2, BadState: 2}, true,
			"2 callback(s) arrived but belonged to another sign-in (wrong state); use the link printed by this run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nothingArrived(tt.stats, listening, registered, tt.final); got != tt.want {
				t.Errorf("nothingArrived =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestRegistrationAdvice(t *testing.T) {
	tests := map[string]string{
		"http://localhost:8400/cb":          "the redirect URI http://localhost/cb is registered for the app (the port is ignored: register it without one)",
		"http://[::1]:8400/cb":              "the redirect URI http://[::1]/cb is registered for the app (the port is ignored: register it without one)",
		"http://127.0.0.1/cb":               "the redirect URI http://127.0.0.1/cb is registered for the app (the port is ignored: register it without one)",
		"https://home.example.com:8443/ms3": "exactly this redirect URI is registered for the app: https://home.example.com:8443/ms3",
	}
	for in, want := range tests {
		if got := registrationAdvice(in); got != want {
			t.Errorf("registrationAdvice(%q) =\n%s\nwant\n%s", in, got, want)
		}
	}
}

func TestEveryNetwork(t *testing.T) {
	tests := []struct {
		addrs []net.Addr
		want  bool
	}{
		{[]net.Addr{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, &net.TCPAddr{IP: net.IPv6loopback, Port: 1}}, false},
		{[]net.Addr{&net.TCPAddr{IP: net.IPv4zero, Port: 1}}, true},
		{[]net.Addr{&net.TCPAddr{IP: net.IPv6unspecified, Port: 1}}, true},
		{[]net.Addr{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}}, false},
	}
	for _, tt := range tests {
		if got := everyNetwork(tt.addrs); got != tt.want {
			t.Errorf("everyNetwork(%v) = %v, want %v", tt.addrs, got, tt.want)
		}
	}
	if l := listen(t, Config{RedirectURI: "http://localhost/cb"}); l.EveryNetwork() {
		t.Errorf("a localhost listener on %v reported as taking every network", l.Addrs())
	}
}

// TestWaitAnswering plays a person who presses Enter twice before the
// callback arrives: once before anything reached the listener, once after
// another sign-in's callback. Each time they are told why nothing usable
// has arrived; the right callback then ends the wait, and the reader has
// returned by the time WaitAnswering does.
func TestWaitAnswering(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/api/ms365auth"})
	enters, told := make(chan struct{}), make(chan string)
	readerDone := make(chan struct{})
	enter := func(ctx context.Context) error {
		select {
		case <-enters:
			return nil
		case <-ctx.Done():
			close(readerDone)
			return ctx.Err()
		}
	}
	tell := func(msg string) { told <- msg }
	type outcome struct {
		res Result
		err error
	}
	waited := make(chan outcome, 1)
	go func() {
		res, err := l.WaitAnswering(t.Context(), enter, tell)
		waited <- outcome{res, err}
	}()
	pressEnter := func() string {
		t.Helper()
		select {
		case enters <- struct{}{}:
		case <-time.After(readyDeadline):
			t.Fatal("nobody read the Enter key")
		}
		select {
		case msg := <-told:
			return msg
		case <-time.After(readyDeadline):
			t.Fatal("Enter was not answered")
			return ""
		}
	}

	if got, want := pressEnter(), "nothing has reached "+l.RedirectURI()+" yet; check that the redirect URI http://localhost/api/ms365auth is registered"; !strings.HasPrefix(got, want) {
		t.Errorf("first answer = %q, want it to start %q", got, want)
	}
	c := newClient(t, nil)
	if r := get(t, c, withQuery(l.RedirectURI(), url.Values{"code": {"x"}, "state": {"another"}})); r.status != http.StatusBadRequest {
		t.Fatalf("wrong-state callback: status %d, want 400", r.status)
	}
	if got, want := pressEnter(), "1 callback(s) arrived but belonged to another sign-in"; !strings.HasPrefix(got, want) {
		t.Errorf("second answer = %q, want it to start %q", got, want)
	}
	if r := get(t, c, withQuery(l.RedirectURI(), goodQuery("the-code"))); r.status != http.StatusOK {
		t.Fatalf("callback: status %d, want 200", r.status)
	}
	var o outcome
	select {
	case o = <-waited:
	case <-time.After(readyDeadline):
		t.Fatal("WaitAnswering did not return")
	}
	if o.err != nil || o.res.Code != "the-code" {
		t.Fatalf("WaitAnswering = %q, %v; want the-code", o.res.Code, o.err)
	}
	select {
	case <-readerDone:
	default:
		t.Error("WaitAnswering returned while the Enter reader still ran")
	}
}

func TestWaitAnsweringWithNobodyThere(t *testing.T) {
	l := listen(t, Config{RedirectURI: "http://localhost/api/ms365auth"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.WaitAnswering(ctx, nil, func(string) { t.Error("told someone who is not there") }); err != context.Canceled {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}
