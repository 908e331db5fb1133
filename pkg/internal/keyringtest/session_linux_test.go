package keyringtest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// orphanEnv makes the test binary act as a test that starts a session and
// then crashes without closing it.
const orphanEnv = "KEYRINGTEST_ORPHAN"

type orphanReport struct {
	Dir    string
	Groups []int
}

func TestMain(m *testing.M) {
	if os.Getenv(orphanEnv) != "" {
		s, err := Start()
		if err != nil {
			panic(err)
		}
		json.NewEncoder(os.Stdout).Encode(orphanReport{s.Dir, s.groups()})
		panic("a test crashed with the session open")
	}
	os.Exit(m.Run())
}

func (s *Session) groups() []int {
	var g []int
	for _, d := range []*daemon{s.bus, s.keyring} {
		if d != nil {
			g = append(g, d.cmd.Process.Pid) // Setpgid: the group id is the leader's pid
		}
	}
	return g
}

func needDaemons(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; install with: %s", err, InstallCommand)
		}
		t.Skipf("%v; install with: %s", err, InstallCommand)
	}
}

// live lists the processes in the given process groups that have not
// exited. Zombies count as exited: an orphan's zombie waits for whoever
// reaps orphans here, which may be nobody.
func live(t *testing.T, groups []int) []string {
	t.Helper()
	want := map[int]bool{}
	for _, g := range groups {
		want[g] = true
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		stat := string(b)
		fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if pgrp, _ := strconv.Atoi(fields[2]); want[pgrp] {
			found = append(found, e.Name()+" "+stat[:strings.LastIndexByte(stat, ')')+1])
		}
	}
	return found
}

func TestSessionServesChildProcesses(t *testing.T) {
	needDaemons(t)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("secret-tool not installed; install with:", InstallCommand)
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	env := append(os.Environ(), s.Env()...)
	store := exec.Command("secret-tool", "store", "--label=keyringtest", "service", "keyringtest", "username", "u")
	store.Env = env
	store.Stdin = strings.NewReader("value-1")
	if out, err := store.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v\n%s", err, out)
	}
	lookup := exec.Command("secret-tool", "lookup", "service", "keyringtest", "username", "u")
	lookup.Env = env
	out, err := lookup.Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "value-1" {
		t.Errorf("secret-tool lookup = %q, want %q", got, "value-1")
	}
	// The data really lives in the private directory.
	if _, err := os.Stat(filepath.Join(s.Dir, "data", "keyrings", "login.keyring")); err != nil {
		t.Errorf("private login keyring: %v", err)
	}
}

func TestCloseLeavesNoProcesses(t *testing.T) {
	needDaemons(t)
	for _, tc := range []struct {
		name  string
		start func() (*Session, error)
		n     int
	}{
		{"secret service", Start, 2},
		{"bare bus", StartBareBus, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.start()
			if err != nil {
				t.Fatal(err)
			}
			groups, dir := s.groups(), s.Dir
			if len(groups) != tc.n {
				t.Fatalf("%d daemons, want %d", len(groups), tc.n)
			}
			if got := live(t, groups); len(got) != tc.n {
				t.Fatalf("before Close, live daemons = %q, want %d", got, tc.n)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := live(t, groups); len(got) != 0 {
				t.Errorf("after Close, still running: %q", got)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Close, %s: %v, want it removed", dir, err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// A test process that crashes never runs Close; Pdeathsig must still take
// the daemons down with it.
func TestDaemonsDieWithCrashedTestProcess(t *testing.T) {
	needDaemons(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanEnv+"=1")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("helper: err = %v, want a non-zero exit from its panic", err)
	}
	var rep orphanReport
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Groups) != 2 {
		t.Fatalf("helper report %q: %v", out, err)
	}
	defer os.RemoveAll(rep.Dir) // a crash leaves the directory behind

	// Nothing announces another process's children dying: poll, with a
	// deadline.
	deadline := time.After(StartTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for left := live(t, rep.Groups); len(left) > 0; left = live(t, rep.Groups) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("daemons outlived the crashed test process: %q", left)
		}
	}
}

func TestBareBusHasNoSecretService(t *testing.T) {
	needDaemons(t)
	s, err := StartBareBus()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if owned, err := s.hasOwner(); err != nil || owned {
		t.Errorf("org.freedesktop.secrets owned = %v (%v), want false", owned, err)
	}
	if err := s.Lock(); err == nil {
		t.Error("Lock on a bare bus succeeded")
	}
	if s.KeyringDaemon() != nil {
		t.Error("KeyringDaemon on a bare bus is not nil")
	}
}

func TestLock(t *testing.T) {
	needDaemons(t)
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if locked, err := s.defaultLocked(); err != nil || locked {
		t.Fatalf("after Start, locked = %v (%v), want false", locked, err)
	}
	if err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	if locked, err := s.defaultLocked(); err != nil || !locked {
		t.Errorf("after Lock, locked = %v (%v), want true", locked, err)
	}
}
