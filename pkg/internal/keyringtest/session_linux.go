package keyringtest

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// StartTimeout bounds how long Start waits for the daemons to be ready.
const StartTimeout = 10 * time.Second

// password unlocks the private login keyring; it protects nothing real.
const password = "keyringtest"

const (
	secretsName    = "org.freedesktop.secrets"
	secretsPath    = "/org/freedesktop/secrets"
	secretsService = "org.freedesktop.Secret.Service"
)

// errUnsupported is never returned on Linux.
var errUnsupported = errors.New("unsupported")

// Session is a private session bus, optionally with an unlocked
// gnome-keyring-daemon serving org.freedesktop.secrets on it.
//
// Both daemons run in their own process groups with Pdeathsig SIGKILL, so
// they die with the test process even when it panics, times out or is
// killed, and Close kills the groups and removes Dir. (Pdeathsig fires when
// the OS thread that started them exits; Go keeps threads alive unless a
// goroutine exits while locked to one, so start sessions from ordinary
// goroutines.) A crashed test leaves only the small directory behind.
type Session struct {
	Dir     string // temporary; holds data/, run/ and run/bus
	Address string // DBUS_SESSION_BUS_ADDRESS of the private bus

	conn    *dbus.Conn
	bus     *daemon
	keyring *daemon
}

// daemon is a started process and a channel closed once it is reaped.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string // file holding its stdout and stderr
}

// Available reports whether the daemons are installed.
func Available() error {
	var missing []string
	for _, name := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(name); err != nil {
			missing = append(missing, name)
		}
	}
	if missing != nil {
		return fmt.Errorf("%s not installed", strings.Join(missing, " and "))
	}
	return nil
}

// Start starts a private bus and an unlocked Secret Service on it, and
// returns once the service owns org.freedesktop.secrets and its default
// collection exists and is unlocked (or fails after StartTimeout).
func Start() (*Session, error) { return start(true) }

// StartBareBus starts a private bus with nothing on it. Its configuration
// names no service directories, so no Secret Service can be auto-started:
// clients get "org.freedesktop.secrets was not provided by any .service
// files", as on a machine without one.
func StartBareBus() (*Session, error) { return start(false) }

func start(secrets bool) (*Session, error) {
	dir, err := os.MkdirTemp("", "keyringtest-")
	if err != nil {
		return nil, err
	}
	s := &Session{Dir: dir}
	if err := s.init(secrets, time.Now().Add(StartTimeout)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Session) init(secrets bool, deadline time.Time) error {
	for _, d := range []string{s.dataDir(), s.runDir()} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if err := s.startBus(deadline); err != nil {
		return err
	}
	var err error
	if s.conn, err = dbus.Connect(s.Address); err != nil {
		return fmt.Errorf("keyringtest: connecting to the private bus: %w", err)
	}
	if secrets {
		return s.startKeyring(deadline)
	}
	return nil
}

func (s *Session) dataDir() string { return filepath.Join(s.Dir, "data") }
func (s *Session) runDir() string  { return filepath.Join(s.Dir, "run") }

// busConfig is a session bus that allows everything, like the stock
// session.conf, but listens only on our socket and has no service
// directories: nothing gets auto-started, so nothing can escape Close.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startBus starts dbus-daemon and reads the address it prints on fd 3 once
// it listens: that line is the readiness signal.
func (s *Session) startBus(deadline time.Time) error {
	var path strings.Builder
	if err := xml.EscapeText(&path, []byte(filepath.Join(s.runDir(), "bus"))); err != nil {
		return err
	}
	conf := filepath.Join(s.Dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, path.String())), 0o600); err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=3")
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	s.bus, err = s.spawn("dbus-daemon", cmd)
	w.Close()
	if err != nil {
		return err
	}
	if err := r.SetReadDeadline(deadline); err != nil {
		return err
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return fmt.Errorf("keyringtest: dbus-daemon printed no address (%v)%s", err, s.bus.tail())
	}
	s.Address = strings.TrimSpace(line)
	return nil
}

// startKeyring starts gnome-keyring-daemon with the password on stdin and
// waits for it to own org.freedesktop.secrets (announced by
// NameOwnerChanged, subscribed before the start so it cannot be missed), then
// for its default collection to be unlocked.
func (s *Session) startKeyring(deadline time.Time) error {
	match := []dbus.MatchOption{
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, secretsName),
	}
	if err := s.conn.AddMatchSignal(match...); err != nil {
		return err
	}
	defer s.conn.RemoveMatchSignal(match...)
	signals := make(chan *dbus.Signal, 16)
	s.conn.Signal(signals)
	defer s.conn.RemoveSignal(signals)

	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env = append(os.Environ(), s.Env()...) // later entries win
	cmd.Stdin = strings.NewReader(password)
	var err error
	if s.keyring, err = s.spawn("gnome-keyring-daemon", cmd); err != nil {
		return err
	}

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for owned := false; !owned; {
		select {
		case <-signals:
			if owned, err = s.hasOwner(); err != nil {
				return err
			}
		case <-s.keyring.done:
			return fmt.Errorf("keyringtest: gnome-keyring-daemon exited before serving %s%s", secretsName, s.keyring.tail())
		case <-timer.C:
			return fmt.Errorf("keyringtest: gnome-keyring-daemon did not serve %s within %s%s", secretsName, StartTimeout, s.keyring.tail())
		}
	}

	// The daemon normally creates and unlocks the login collection before
	// it claims the name; poll briefly in case a version does it after.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		locked, err := s.defaultLocked()
		if err == nil && !locked {
			return nil
		}
		select {
		case <-tick.C:
		case <-timer.C:
			if err == nil {
				err = errors.New("it is locked")
			}
			return fmt.Errorf("keyringtest: the default collection is not usable: %v%s", err, s.keyring.tail())
		}
	}
}

func (s *Session) hasOwner() (bool, error) {
	var owned bool
	err := s.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned)
	return owned, err
}

// defaultCollection resolves the "default" alias; "/" means none yet.
func (s *Session) defaultCollection() (dbus.ObjectPath, error) {
	var path dbus.ObjectPath
	err := s.conn.Object(secretsName, secretsPath).Call(secretsService+".ReadAlias", 0, "default").Store(&path)
	if err == nil && path == "/" {
		err = errors.New("no default collection yet")
	}
	return path, err
}

func (s *Session) defaultLocked() (bool, error) {
	path, err := s.defaultCollection()
	if err != nil {
		return false, err
	}
	v, err := s.conn.Object(secretsName, path).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil {
		return false, err
	}
	locked, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the Locked property is a %s", v.Signature())
	}
	return locked, nil
}

// Lock locks the default collection, as a screen lock or a fresh login
// without auto-unlock would. Clients then get go-keyring's "failed to
// unlock correct collection": with no display, no prompt can unlock it.
func (s *Session) Lock() error {
	if s.keyring == nil {
		return errors.New("keyringtest: this session has no Secret Service to lock")
	}
	path, err := s.defaultCollection()
	if err != nil {
		return err
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := s.conn.Object(secretsName, secretsPath).Call(secretsService+".Lock", 0, []dbus.ObjectPath{path}).Store(&locked, &prompt); err != nil {
		return err
	}
	if ok, err := s.defaultLocked(); err != nil || !ok {
		return fmt.Errorf("keyringtest: the default collection did not lock (%v)", err)
	}
	return nil
}

// KeyringDaemon is the gnome-keyring-daemon process, nil for a bare bus.
// Tests may signal it, e.g. SIGSTOP to make every call hang.
func (s *Session) KeyringDaemon() *os.Process {
	if s.keyring == nil {
		return nil
	}
	return s.keyring.cmd.Process
}

// Env returns the variables that point a child process at this session:
// DBUS_SESSION_BUS_ADDRESS, XDG_DATA_HOME and XDG_RUNTIME_DIR. HOME is left
// alone, since changing it moves Go's caches.
func (s *Session) Env() []string {
	return []string{
		"DBUS_SESSION_BUS_ADDRESS=" + s.Address,
		"XDG_DATA_HOME=" + s.dataDir(),
		"XDG_RUNTIME_DIR=" + s.runDir(),
	}
}

// Setenv points this process at the session (go-keyring reads the
// environment). godbus keeps its first session-bus connection for the life
// of the process, so call Setenv before anything talks to a session bus.
func (s *Session) Setenv() error {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Close kills both daemons (their whole process groups), waits for them,
// and removes Dir. It is safe to call more than once.
func (s *Session) Close() error {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	s.keyring.kill()
	s.bus.kill()
	s.keyring, s.bus = nil, nil
	if s.Dir == "" {
		return nil
	}
	err := os.RemoveAll(s.Dir)
	s.Dir = ""
	return err
}

// spawn starts cmd in its own process group, tied to this process's life,
// with its output in a log file under Dir.
func (s *Session) spawn(name string, cmd *exec.Cmd) (*daemon, error) {
	logPath := filepath.Join(s.Dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("keyringtest: starting %s: %w", name, err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// kill SIGKILLs the daemon's process group and waits until it is reaped.
func (d *daemon) kill() {
	if d == nil {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
}

// tail returns the end of the daemon's log for an error message.
func (d *daemon) tail() string {
	if d == nil {
		return ""
	}
	b, _ := os.ReadFile(d.log)
	text := strings.TrimSpace(string(b))
	if text == "" {
		return ""
	}
	if len(text) > 2000 {
		text = "..." + text[len(text)-2000:]
	}
	return "; its output:\n" + text
}
