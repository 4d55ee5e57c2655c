package apierr_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const apierrPath = "github.com/healthcode/healthcode/internal/apierr"

var constructors = map[string]bool{"BadRequest": true, "NotFound": true, "Forbidden": true,
	"Unauthorized": true, "Conflict": true, "Unprocessable": true, "TooMany": true}

// strayErrors reports where f makes an *apierr.Error other than as the value
// of a package-level var: every case is a sentinel, returned as it is or
// with Withf, so that callers can match it with errors.Is.
func strayErrors(fset *token.FileSet, f *ast.File) []token.Position {
	name := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == apierrPath {
			name = "apierr"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" || name == "_" {
		return nil
	}
	isApierr := func(e ast.Expr, sel func(string) bool) bool {
		s, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		id, ok := s.X.(*ast.Ident)
		return ok && id.Name == name && sel(s.Sel.Name)
	}
	sentinel := map[ast.Node]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				if u, ok := v.(*ast.UnaryExpr); ok && u.Op == token.AND {
					v = u.X
				}
				sentinel[v] = true
			}
		}
	}
	var stray []token.Position
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if isApierr(n.Fun, func(s string) bool { return constructors[s] }) && !sentinel[n] {
				stray = append(stray, fset.Position(n.Pos()))
			}
		case *ast.CompositeLit:
			if isApierr(n.Type, func(s string) bool { return s == "Error" }) && !sentinel[n] {
				stray = append(stray, fset.Position(n.Pos()))
			}
		}
		return true
	})
	return stray
}

func TestStrayErrorsFindsConstructorsOutsideVars(t *testing.T) {
	const src = `package p

import (
	"net/http"

	ae "github.com/healthcode/healthcode/internal/apierr"
)

var (
	ErrOK   = ae.NotFound("thing_not_found", "no such thing")
	ErrGone = &ae.Error{Status: http.StatusGone, Code: "thing_gone", Message: "gone"}
	precise = ErrOK.Withf("no thing here")
	wrapped = func() error { return ae.BadRequest("thing_invalid", "bad") }
)

func f(n int) error {
	if n > 0 {
		return ae.Conflict("thing_exists", "thing %d exists", n)
	}
	return &ae.Error{Status: http.StatusGone, Code: "thing_gone", Message: "gone"}
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, pos := range strayErrors(fset, f) {
		lines = append(lines, pos.Line)
	}
	if want := []int{13, 18, 20}; !slices.Equal(lines, want) {
		t.Errorf("stray errors on lines %v, want %v", lines, want)
	}
}

// TestErrorsAreSentinels keeps the pattern true across the module: a case
// is declared once (in its package's errors.go) and returned, never made
// on the spot, where no caller could match it but by its text.
func TestErrorsAreSentinels(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, pos := range strayErrors(fset, f) {
			rel, _ := filepath.Rel(root, pos.Filename)
			t.Errorf("%s:%d: an *apierr.Error made outside a package-level var; declare the case in the package's errors.go and return it (or its Withf)", rel, pos.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("walked only %d files under %s", files, root)
	}
}
