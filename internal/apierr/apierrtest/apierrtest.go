// Package apierrtest finds the error cases the module declares, for tests
// that hold a rule over every one of them (each is a sentinel; each has a
// Chinese and an English text). Only tests import it.
package apierrtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Path is the import path of package apierr.
const Path = "github.com/healthcode/healthcode/internal/apierr"

// Constructors are apierr's functions that make an *apierr.Error.
var Constructors = map[string]bool{"BadRequest": true, "NotFound": true, "Forbidden": true,
	"Unauthorized": true, "Conflict": true, "Unprocessable": true, "TooMany": true}

// Root is the module's root directory, found upwards from the working
// directory (a test runs in its package's directory).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("apierrtest: no go.mod above the working directory")
		}
		dir = up
	}
}

// Walk parses every non-test Go file under root (skipping testdata and
// hidden directories) and calls fn with it; it returns how many it parsed.
func Walk(root string, fn func(fset *token.FileSet, f *ast.File)) (int, error) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
		fn(fset, f)
		return nil
	})
	return files, err
}

// ImportName is the name f uses for package apierr ("" when it does not
// import it).
func ImportName(f *ast.File) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == Path {
			if imp.Name != nil {
				if imp.Name.Name == "_" {
					return ""
				}
				return imp.Name.Name
			}
			return "apierr"
		}
	}
	return ""
}

// Sentinel is one declared case.
type Sentinel struct {
	Var     string // the variable's name
	Code    string
	Message string // the English message it declares
	Kind    string // the constructor (NotFound, Conflict, ...), or the status expression of a literal
	Pos     token.Position
}

// Sentinels lists the cases declared under root: the package-level vars
// whose value is an apierr constructor call or an &apierr.Error literal
// with a constant code.
func Sentinels(root string) ([]Sentinel, error) {
	var out []Sentinel
	files, err := Walk(root, func(fset *token.FileSet, f *ast.File) {
		name := ImportName(f)
		if name == "" {
			return
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, v := range vs.Values {
					if i >= len(vs.Names) {
						break
					}
					if code, msg, kind, ok := caseOf(name, v); ok {
						out = append(out, Sentinel{Var: vs.Names[i].Name, Code: code, Message: msg, Kind: kind, Pos: fset.Position(v.Pos())})
					}
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if files < 100 {
		return nil, fmt.Errorf("apierrtest: walked only %d files under %s", files, root)
	}
	return out, nil
}

func caseOf(name string, v ast.Expr) (code, msg, kind string, ok bool) {
	if u, isAddr := v.(*ast.UnaryExpr); isAddr && u.Op == token.AND {
		v = u.X
	}
	str := func(e ast.Expr) string {
		if l, ok := e.(*ast.BasicLit); ok && l.Kind == token.STRING {
			s, _ := strconv.Unquote(l.Value)
			return s
		}
		return ""
	}
	switch v := v.(type) {
	case *ast.CallExpr:
		if IsApierr(v.Fun, name, func(s string) bool { return Constructors[s] }) && len(v.Args) >= 2 {
			code, msg = str(v.Args[0]), str(v.Args[1])
			kind = v.Fun.(*ast.SelectorExpr).Sel.Name
		}
	case *ast.CompositeLit:
		if IsApierr(v.Type, name, func(s string) bool { return s == "Error" }) {
			for _, el := range v.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					switch k, _ := kv.Key.(*ast.Ident); {
					case k != nil && k.Name == "Code":
						code = str(kv.Value)
					case k != nil && k.Name == "Message":
						msg = str(kv.Value)
					case k != nil && k.Name == "Status":
						kind = types.ExprString(kv.Value)
					}
				}
			}
		}
	}
	return code, msg, kind, code != ""
}

// IsApierr reports whether e is name.X for an X that sel accepts.
func IsApierr(e ast.Expr, name string, sel func(string) bool) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == name && sel(s.Sel.Name)
}
