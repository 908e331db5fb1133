package manual

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryVariableIsDocumented reads the program's sources: every
// MS365AUTH_* variable they name must be in the table.
func TestEveryVariableIsDocumented(t *testing.T) {
	var documented []string
	for _, v := range Environment {
		documented = append(documented, v.Name)
	}
	name := regexp.MustCompile(`MS365AUTH_[A-Z_]*[A-Z]`)
	seen := map[string]bool{}
	for _, root := range []string{"../../pkg", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			if strings.Contains(filepath.ToSlash(path), "/entrasim/") || strings.Contains(filepath.ToSlash(path), "/internal/") {
				return nil // test doubles and helpers, not the program
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, v := range name.FindAllString(string(src), -1) {
				seen[v] = true
				if !slices.Contains(documented, v) {
					t.Errorf("%s names %s, which the manual's table lacks", path, v)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) < 5 {
		t.Fatalf("found only %d variables in the sources: is the walk looking in the right place?", len(seen))
	}
}

func TestTextFitsEightyColumns(t *testing.T) {
	text := Text()
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 80 {
			t.Errorf("a line of %d columns: %q", len(line), line)
		}
	}
	for _, v := range Environment {
		if !strings.Contains(text, "\n  "+v.Name+"\n") {
			t.Errorf("the help lacks %s", v.Name)
		}
	}
}

func TestForCommand(t *testing.T) {
	has := func(vs []Variable, name string) bool {
		return slices.ContainsFunc(vs, func(v Variable) bool { return v.Name == name })
	}
	if !has(For("reauth"), "MS365AUTH_SIGNIN_URL") || has(For("token"), "MS365AUTH_SIGNIN_URL") {
		t.Errorf("MS365AUTH_SIGNIN_URL belongs to reauth only")
	}
	if !has(For("token"), "MS365AUTH_PROFILE") || len(For("")) != len(Environment) {
		t.Errorf("variables for every command are missing")
	}
}

func TestRoffEscapes(t *testing.T) {
	cases := map[string]string{
		"--store file":   `\-\-store file`,
		`C:\path`:        `C:\epath`,
		".config starts": `\&.config starts`,
	}
	for in, want := range cases {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}
