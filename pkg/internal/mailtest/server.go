//go:build linux

package mailtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// Options configure a Server.
type Options struct {
	// Lookup finds a token the Entra double issued:
	// (*entrasim.Server).LookupAccessToken.
	Lookup func(token string) (entrasim.TokenInfo, bool)
	// Now is the mail server's clock for token expiry; nil means time.Now.
	Now func() time.Time
	// Exchange sets the mailbox and organisation settings that make
	// Exchange refuse a login.
	Exchange Exchange
}

// Exchange holds the settings behind Exchange Online's refusals, each with
// the answer Exchange gives for it.
type Exchange struct {
	// SMTPAuthDisabled is "Tenant" (Set-TransportConfig) or "Mailbox"
	// (Set-CASMailbox): SMTP AUTH answers 535 5.7.139 "…disabled for the
	// Tenant/Mailbox".
	SMTPAuthDisabled string
	// IMAPDisabled and POPDisabled (Set-CASMailbox -ImapEnabled/-PopEnabled
	// $false): every login fails as a bad token would.
	IMAPDisabled, POPDisabled bool
	// FullAccess lists, per shared mailbox, the delegates whose tokens open
	// it over IMAP and POP when the SASL user is the shared address.
	FullAccess map[string][]string
	// SendAs lists, per address, who may send as it over SMTP.
	SendAs map[string][]string
}

// allowed reports whether who is listed for address in grants.
func allowed(grants map[string][]string, address, who string) bool {
	for a, whos := range grants {
		for _, g := range whos {
			if strings.EqualFold(a, address) && strings.EqualFold(g, who) {
				return true
			}
		}
	}
	return false
}

// Check is one token Dovecot asked about.
type Check struct {
	Service string // imap or submission (Dovecot's service names)
	User    string // whose token it is ("" when unknown)
	Refusal string // why it was refused; "" when accepted
}

// Server is a running private Dovecot for IMAP and a submission server.
type Server struct {
	IMAPS      string // host:port of IMAP with TLS from the first byte
	POP3S      string // host:port of POP with TLS from the first byte ("" when not installed)
	Submission string // host:port of SMTP submission with STARTTLS
	CAFile     string // PEM certificate of the CA that issued the server's

	dir      string
	uid, gid int // Dovecot's user, who must own what it reads
	opts     Options
	exited   chan struct{}

	mu      sync.Mutex
	checks  []Check
	sent    []Message
	changed chan struct{} // closed and replaced when checks or sent grow
}

// Require skips the test when a program is missing, or fails it under CI
// (the CI environment variable set), which must have it installed.
func Require(t testing.TB, program, debianPackage string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		missing(t, program, debianPackage)
	}
}

// RequireFile is Require for a file, such as a plugin, named by a glob
// pattern.
func RequireFile(t testing.TB, pattern, debianPackage string) {
	t.Helper()
	if found, _ := filepath.Glob(pattern); len(found) == 0 {
		missing(t, pattern, debianPackage)
	}
}

func missing(t testing.TB, what, debianPackage string) {
	t.Helper()
	msg := fmt.Sprintf("%s is not installed (apt-get install --no-install-recommends %s)", what, debianPackage)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start starts a Server for the test and stops it when the test ends. It
// skips the test (fails it under CI) when Dovecot is not installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t, "dovecot", "dovecot-imapd")
	if len(opts.Exchange.FullAccess) > 0 {
		// Shared mailboxes: a Lua passdb that asks with curl.
		RequireFile(t, "/usr/lib/dovecot/modules/auth/libauthdb_lua.so", "dovecot-auth-lua")
		Require(t, "curl", "curl")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Not t.TempDir: when run as root, Dovecot runs as nobody, who must be
	// able to reach the directory.
	dir, err := os.MkdirTemp("", "mailtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{dir: dir, opts: opts, changed: make(chan struct{})}
	if err := s.start(t); err != nil {
		t.Fatalf("mailtest: %v\n%s", err, s.log())
	}
	return s
}

func (s *Server) start(t testing.TB) error {
	runAs, err := dovecotUser()
	if err != nil {
		return err
	}
	s.uid, _ = strconv.Atoi(runAs.Uid)
	s.gid, _ = strconv.Atoi(runAs.Gid)
	group, err := user.LookupGroupId(runAs.Gid)
	if err != nil {
		return err
	}
	if err := writeCertificates(s.dir); err != nil {
		return err
	}
	s.CAFile = filepath.Join(s.dir, "ca.pem")

	introspect, err := s.serve(t, http.HandlerFunc(s.introspect))
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(s.dir, "cert.pem"), filepath.Join(s.dir, "key.pem"))
	if err != nil {
		return err
	}
	if s.Submission, err = s.listenSubmission(t, cert); err != nil {
		return err
	}
	imaps := freePort()
	if imaps == 0 {
		return errors.New("no free loopback port")
	}
	s.IMAPS = net.JoinHostPort("127.0.0.1", strconv.Itoa(imaps))
	conf := dovecotConf{
		Dir: s.dir, User: runAs.Username, Group: group.Name, UID: s.uid, GID: s.gid,
		IMAPS: imaps, Introspect: "http://" + introspect + "/introspect",
		Delegation: len(s.opts.Exchange.FullAccess) > 0,
	}
	// POP when Debian's dovecot-pop3d is installed.
	if _, err := os.Stat(dovecotPOP3); err == nil {
		if conf.POP3S = freePort(); conf.POP3S == 0 {
			return errors.New("no free loopback port")
		}
		s.POP3S = net.JoinHostPort("127.0.0.1", strconv.Itoa(conf.POP3S))
	}
	if err := conf.write(); err != nil {
		return err
	}
	if err := s.chown(s.dir); err != nil {
		return err
	}
	return s.run(t)
}

// dovecotPOP3 is Dovecot's POP server, from Debian's dovecot-pop3d.
const dovecotPOP3 = "/usr/lib/dovecot/pop3"

// RequirePOP skips the test (fails it under CI) when Dovecot's POP server
// is not installed.
func RequirePOP(t testing.TB) {
	t.Helper()
	RequireFile(t, dovecotPOP3, "dovecot-pop3d")
}

// dovecotUser is who runs Dovecot: the current user, or nobody for root.
func dovecotUser() (*user.User, error) {
	if os.Getuid() == 0 {
		return user.Lookup("nobody")
	}
	return user.Current()
}

// chown gives path (and what is under it) to Dovecot's user when that is
// not the current one.
func (s *Server) chown(path string) error {
	if s.uid == os.Getuid() {
		return nil
	}
	return filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, s.uid, s.gid)
	})
}

func (s *Server) run(t testing.TB) error {
	cmd := exec.Command("dovecot", "-F", "-c", filepath.Join(s.dir, "dovecot.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that the test can end Dovecot and every
	// process it started at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.uid != os.Getuid() {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid)}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting dovecot: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		// A throwaway server: no need for Dovecot's orderly shutdown,
		// which can take seconds.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		if t.Failed() {
			t.Logf("dovecot's log:\n%s", s.log())
		}
	})
	// Ready when both listeners accept; Dovecot opens them before it
	// serves, so a refused connection means "not yet".
	deadline := time.Now().Add(15 * time.Second)
	for _, addr := range []string{s.IMAPS, s.POP3S} {
		if addr == "" {
			continue
		}
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-s.exited:
				return fmt.Errorf("dovecot exited at start: %s", out.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("dovecot is not listening on %s: %v", addr, err)
			}
		}
	}
	return nil
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
	return string(b)
}

// serve runs handler on a loopback port until the test ends.
func (s *Server) serve(t testing.TB, handler http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), nil
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// introspect answers Dovecot's oauth2 passdb (introspection_mode = post,
// send_auth_headers = yes, so the service comes in a header). A refused
// token is {"active": false}, which Dovecot turns into an authentication
// failure; an accepted one carries the user Dovecot compares with the SASL
// user.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	// The oauth2 passdb sends no user (Dovecot compares it itself); the
	// Lua passdb of Delegation does, and the check compares.
	token := strings.TrimSuffix(r.PostFormValue("token"), "\n")
	info, why := s.check(token, r.Header.Get("X-Dovecot-Auth-Service"), r.PostFormValue("user"))
	answer := map[string]any{"active": why == ""}
	if why == "" {
		answer["upn"] = info.Username
		answer["aud"] = info.Resource
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// check applies Exchange's rules to a token for service and records the
// decision. A non-empty user must be the token's (Dovecot compares the
// user itself, and passes "").
func (s *Server) check(token, service, user string) (entrasim.TokenInfo, string) {
	info, why := s.decide(token, service, user)
	s.record(func() { s.checks = append(s.checks, Check{Service: service, User: info.Username, Refusal: why}) })
	return info, why
}

// decide is check without the record.
func (s *Server) decide(token, service, user string) (entrasim.TokenInfo, string) {
	info, issued := s.opts.Lookup(token)
	why := refusal(info, issued, service, s.opts.Now())
	if why == "" && user != "" && !strings.EqualFold(user, info.Username) {
		// A shared mailbox opens with a delegate's token over IMAP and
		// POP, never over SMTP, whose user must be the token's.
		if service == "submission" || !allowed(s.opts.Exchange.FullAccess, user, info.Username) {
			why = fmt.Sprintf("token of %s, not %s", info.Username, user)
		}
	}
	if why == "" && disabled(s.opts.Exchange, service) {
		why = service + " is disabled for the mailbox"
	}
	return info, why
}

// disabled reports whether the settings turn service off.
func disabled(e Exchange, service string) bool {
	switch service {
	case "imap":
		return e.IMAPDisabled
	case "pop3":
		return e.POPDisabled
	case "submission":
		return e.SMTPAuthDisabled != ""
	}
	return false
}

// record changes what the server saw and wakes those waiting on it.
func (s *Server) record(change func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change()
	close(s.changed)
	s.changed = make(chan struct{})
}

// Checks returns every token check so far, oldest first.
func (s *Server) Checks() []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Check(nil), s.checks...)
}

// Sent returns the messages submitted so far, oldest first.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// WaitSent waits until n messages have arrived, and returns them. The
// server answers the client only after it kept the message, so this
// rarely waits.
func (s *Server) WaitSent(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		sent, changed := append([]Message(nil), s.sent...), s.changed
		s.mu.Unlock()
		if len(sent) >= n {
			return sent, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return sent, fmt.Errorf("%d of %d messages arrived: %w", len(sent), n, ctx.Err())
		}
	}
}

// Deliver puts a message into the INBOX of the mailbox user (the part of
// the address before the @), as Exchange's delivery would.
func (s *Server) Deliver(user string, message string) error {
	box := filepath.Join(s.dir, "mail", user)
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(box, d), 0o700); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("%d.mailtest.localhost", time.Now().UnixNano())
	path := filepath.Join(box, "new", name)
	if err := os.WriteFile(path, []byte(message), 0o600); err != nil {
		return err
	}
	return s.chown(filepath.Join(s.dir, "mail"))
}
