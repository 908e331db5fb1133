package opener

import (
	"strings"
	"testing"
)

func browserVar(value string) func(string) string {
	return func(key string) string {
		if key == "BROWSER" {
			return value
		}
		return ""
	}
}

func TestOpenReportsTheFirstFailure(t *testing.T) {
	err := System{Getenv: browserVar("/nonexistent/first %s:/nonexistent/second")}.Open("https://example.test/")
	if err == nil {
		t.Fatal("Open succeeded with no browser that can start")
	}
	if !strings.HasPrefix(err.Error(), "BROWSER=/nonexistent/first %s: ") {
		t.Errorf("error = %q, want the first command's failure", err)
	}
}

func TestOpenEmptyCommand(t *testing.T) {
	err := System{Getenv: browserVar("  :")}.Open("https://example.test/")
	if err == nil || err.Error() != "BROWSER is empty" {
		t.Errorf("error = %v, want BROWSER is empty", err)
	}
}
