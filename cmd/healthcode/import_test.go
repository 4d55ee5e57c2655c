package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// The command imports a population list with a progress bar on standard
// error and the per-line report on standard output; a file again adds
// nobody.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	s := servertest.Start(t, db.SQLite)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte(servertest.AdminPassword+"\n"), 0o600)
	file := filepath.Join(dir, "pop.csv")
	os.WriteFile(file, []byte("town,community,grid,household,name,id_number\n"+
		"341881001,001,001,1-101,张三,"+residentID("34188119850312201")+"\n"+
		"341881001,001,001,1-101,张四,12345\n"), 0o600)
	args := []string{"import", "--db", s.App.Config.DB, "--key-file", s.App.Config.KeyFile, "--region", servertest.Region,
		"--username", "admin", "--password-file", pw, "--kind", "residents", file}
	out, text, err := runCmd(args...)
	if err != nil || out["good"] != float64(1) || out["bad"] != float64(1) || out["created"] != float64(1) {
		t.Fatalf("import: %v\n%s", err, text)
	}
	if !strings.Contains(text, "2/2 lines, 1 bad") || !strings.Contains(text, `"line": 3`) {
		t.Errorf("no progress or no per-line report:\n%s", text)
	}
	out, text, err = runCmd(args...)
	if err != nil || out["created"] != float64(0) || s.Count("persons") != 1 {
		t.Fatalf("again: %v\n%s", err, text)
	}
	if _, text, err := runCmd("import", "--db", s.App.Config.DB, "--key-file", s.App.Config.KeyFile, "--region", servertest.Region,
		"--username", "admin", "--password-file", pw, "--kind", "people", file); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Errorf("an unknown kind: %v\n%s", err, text)
	}
}
