package callback

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const testState = "state-9f2c1b"

// readyDeadline bounds every wait for something that must happen; it is a
// guard against hangs, not a speed assertion.
const readyDeadline = 30 * time.Second

// listen starts a listener that the test closes, and checks afterwards that
// it left no server goroutines behind.
func listen(t *testing.T, cfg Config) *Listener {
	t.Helper()
	if cfg.State == "" {
		cfg.State = testState
	}
	l, err := Listen(cfg)
	if err != nil {
		t.Fatalf("Listen(%+v): %v", cfg, err)
	}
	if _, seen := testListeners.LoadOrStore(t, []*Listener(nil)); !seen {
		// Registered once per test, so it runs after everything the test
		// registers later (clients' idle connections are closed first).
		t.Cleanup(func() {
			ls, _ := testListeners.LoadAndDelete(t)
			for _, l := range ls.([]*Listener) {
				l.Close()
			}
			checkNoLeaks(t)
		})
	}
	ls, _ := testListeners.Load(t)
	testListeners.Store(t, append(ls.([]*Listener), l))
	return l
}

// testListeners holds each test's listeners, to close them all before the
// leak check.
var testListeners sync.Map // *testing.T → []*Listener

// newClient is an HTTP client that trusts roots (when given) and never uses
// a proxy from the environment.
func newClient(t testing.TB, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{Proxy: nil}
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response to %s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

func get(t *testing.T, c *http.Client, u string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

// withQuery returns base (scheme://host:port/path) with q as its query.
func withQuery(base string, q url.Values) string {
	return base + "?" + q.Encode()
}

// baseOn is the listener's callback URL with the host replaced by addr.
func baseOn(t *testing.T, l *Listener, addr string) string {
	t.Helper()
	u, err := url.Parse(l.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	u.RawQuery = ""
	return u.String()
}

func port(t *testing.T, l *Listener) string {
	t.Helper()
	_, p, err := net.SplitHostPort(l.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type outcome struct {
	res Result
	err error
}

// waitAsync runs Wait and delivers its outcome.
func waitAsync(ctx context.Context, l *Listener) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := l.Wait(ctx)
		ch <- outcome{res, err}
	}()
	return ch
}

func receive(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(readyDeadline):
		t.Fatal("Wait did not return")
		return outcome{}
	}
}

// hasIPv6Loopback reports whether ::1 can be bound on this machine.
func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// freePort returns a port that was free on 127.0.0.1 (and ::1 when present)
// a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	lns, err := bindLocalhost(0)
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(lns[0].Addr().String())
	for _, ln := range lns {
		ln.Close()
	}
	return p
}

// selfSigned writes a certificate for localhost, 127.0.0.1 and ::1 and its
// key to dir, and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// serverGoroutines lists the stacks of goroutines that belong to a callback
// server (its Serve loops, even not yet started, and its connections) or
// were started by this package's code or tests (Waits).
func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "net/http.(*Server).Serve") ||
			strings.Contains(g, "net/http.(*conn).serve") ||
			strings.Contains(g, "http2serverConn") ||
			strings.Contains(g, "callback.(*Listener)") ||
			strings.Contains(g, "created by github.com/ms365auth/ms365auth/pkg/callback.") {
			found = append(found, g)
		}
	}
	return found
}

// checkNoLeaks waits (up to a deadline) for server goroutines to end: a
// connection's goroutine finishes shortly after the server stops tracking it.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(readyDeadline)
	for {
		left := serverGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d server goroutines left running:\n%s", len(left), strings.Join(left, "\n\n"))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
