package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README and the docs point only at files the repository has: a
// newcomer follows them first.
func TestDocsLinkOnlyToFilesThatExist(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{filepath.Join(root, "README.md")}, docs...)
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	bare := regexp.MustCompile(`(^|[^/\w-])([A-Z][A-Z0-9_-]*\.md)\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "/") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which the repository does not have", f, target)
			}
		}
		for _, m := range bare.FindAllStringSubmatch(string(b), -1) {
			name := m[2]
			_, inDocs := os.Stat(filepath.Join(root, "docs", name))
			_, atRoot := os.Stat(filepath.Join(root, name))
			_, beside := os.Stat(filepath.Join(filepath.Dir(f), name))
			if inDocs != nil && atRoot != nil && beside != nil {
				t.Errorf("%s names %s, which the repository does not have", f, name)
			}
		}
	}
}
