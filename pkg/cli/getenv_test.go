package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyDefaultEnvReadsTheEnvironment: commands read the environment
// through Env.Getenv, which DefaultEnv fills from os.Getenv, so that the
// secrets withoutSecretEnv takes out of the process environment still
// reach them, and tests can give each run its own. A call of os.Getenv
// anywhere else in the package would bypass both.
func TestOnlyDefaultEnvReadsTheEnvironment(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Name.Name == "DefaultEnv" && fd.Recv == nil {
				continue
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Getenv" {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "os" {
					t.Errorf("%s: os.Getenv outside DefaultEnv: use env.Getenv or env.account()", fset.Position(sel.Pos()))
				}
				return true
			})
		}
	}
}
