package profile

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	s := NewSettings(func(k string) string { return map[string]string{"MS365AUTH_CONFIG": path}[k] })
	if s.Path() != path {
		t.Fatalf("Path = %q", s.Path())
	}
	if p, cfg, err := s.Get("work"); p != nil || cfg == nil || err != nil {
		t.Fatalf("Get from no file: %v %v %v", p, cfg, err)
	}
	if err := s.Save(&Profile{Name: "work", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(&Profile{Name: "home", ClientID: "d"}); err != nil {
		t.Fatal(err)
	}
	p, cfg, err := s.Get("work")
	if err != nil || p == nil || p.ClientID != "c" {
		t.Fatalf("Get: %+v %v", p, err)
	}
	if diff := cmp.Diff([]string{"home", "work"}, cfg.Select("", true)); diff != "" {
		t.Errorf("Select all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"work"}, cfg.Select("work", false)); diff != "" {
		t.Errorf("Select one (-want +got):\n%s", diff)
	}
	if err := s.Update(func(c *Config) { c.Remove("home") }); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := SettingsAt(path).Load(); len(cfg.Names()) != 1 {
		t.Errorf("after Remove: %v", cfg.Names())
	}
}

func TestSettingsWithoutAPlace(t *testing.T) {
	s := &Settings{err: errTest}
	if _, err := s.Load(); err != errTest {
		t.Errorf("Load: %v", err)
	}
	if err := s.Update(func(*Config) {}); err != errTest {
		t.Errorf("Update: %v", err)
	}
	if _, _, err := s.Get("x"); err != errTest {
		t.Errorf("Get: %v", err)
	}
}

var errTest = errorString("no home")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestDefaultPathHonoursTheOverride(t *testing.T) {
	got, err := DefaultPath(func(string) string { return "" })
	if err != nil || !strings.HasSuffix(got, filepath.Join("ms365auth", "config.json")) {
		t.Errorf("DefaultPath = %q, %v", got, err)
	}
}
