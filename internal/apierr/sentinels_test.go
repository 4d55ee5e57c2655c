package apierr_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr/apierrtest"
)

// strayErrors reports where f makes an *apierr.Error other than as the value
// of a package-level var: every case is a sentinel, returned as it is or
// with Withf, so that callers can match it with errors.Is.
func strayErrors(fset *token.FileSet, f *ast.File) []token.Position {
	name := apierrtest.ImportName(f)
	if name == "" {
		return nil
	}
	isApierr := func(e ast.Expr, sel func(string) bool) bool { return apierrtest.IsApierr(e, name, sel) }
	constructors := apierrtest.Constructors
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
	root, err := apierrtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := apierrtest.Walk(root, func(fset *token.FileSet, f *ast.File) {
		for _, pos := range strayErrors(fset, f) {
			rel, _ := filepath.Rel(root, pos.Filename)
			t.Errorf("%s:%d: an *apierr.Error made outside a package-level var; declare the case in the package's errors.go and return it (or its Withf)", rel, pos.Line)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("walked only %d files under %s", files, root)
	}
}

// TestSentinelsFindsEveryCase: the discovery the translation test relies on
// sees the cases of a package, whatever it calls apierr, and nothing else.
func TestSentinelsFindsEveryCase(t *testing.T) {
	root, err := apierrtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	all, err := apierrtest.Sentinels(root)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, s := range all {
		codes[s.Code] = true
	}
	for _, c := range []string{"person_not_found", "forbidden", "appeal_not_found", "otp_too_soon"} {
		if !codes[c] {
			t.Errorf("the module's cases lack %q (found %d)", c, len(codes))
		}
	}
}

// TestOneStatusPerCode: a code means one thing to a client, so it answers
// with one status wherever it is declared; and since errors.Is matches
// cases by code, two packages declaring one code with different statuses
// would also match each other's errors.
func TestOneStatusPerCode(t *testing.T) {
	root, err := apierrtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	all, err := apierrtest.Sentinels(root)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]apierrtest.Sentinel{}
	for _, s := range all {
		f, seen := first[s.Code]
		if !seen {
			first[s.Code] = s
			continue
		}
		if f.Kind != s.Kind {
			rel := func(p string) string { r, _ := filepath.Rel(root, p); return r }
			t.Errorf("%q is %s at %s:%d but %s at %s:%d: give the two cases one status, or two codes",
				s.Code, f.Kind, rel(f.Pos.Filename), f.Pos.Line, s.Kind, rel(s.Pos.Filename), s.Pos.Line)
		}
	}
}
