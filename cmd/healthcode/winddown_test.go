package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/winddown"
)

// TestWindDownCommand drives the command as an operator would: a dry run,
// a run without and with a wrong phrase (refused, nothing changed), the
// real run, then the report checked against the published trust list, and
// the same report altered.
func TestWindDownCommand(t *testing.T) {
	t.Parallel()
	s := servertest.Start(t, db.SQLite, servertest.WithDemo())
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte(servertest.AdminPassword+"\n"), 0o600)
	store := []string{"--db", s.App.Config.DB, "--key-file", s.App.Config.KeyFile, "--region", servertest.Region,
		"--username", "admin", "--password-file", pw}
	res, err := http.Get(s.URL + "/api/v1/trust-list")
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := io.ReadAll(res.Body)
	res.Body.Close()
	trust := filepath.Join(dir, "trust.json")
	os.WriteFile(trust, tl, 0o600)
	persons := s.Count("persons")
	if persons == 0 {
		t.Fatal("the demo registered nobody")
	}

	out, text, err := runCmd(append([]string{"wind-down", "--dry-run"}, store...)...)
	if err != nil || out["dry_run"] != true || !strings.Contains(text, `"table": "persons"`) || !strings.Contains(text, "--confirm") {
		t.Fatalf("dry run: %v\n%s", err, text)
	}
	phrase := winddown.ConfirmationPhrase(servertest.Region)
	for name, args := range map[string][]string{
		"no confirmation":    {},
		"wrong phrase":       {"--confirm", "END THE EMERGENCY"},
		"another's password": {"--confirm", phrase, "--password-file", filepath.Join(dir, "nope")},
	} {
		_, text, err := runCmd(append(append([]string{"wind-down"}, store...), args...)...)
		if err == nil {
			t.Fatalf("%s: the wind-down ran\n%s", name, text)
		}
		if name == "no confirmation" && !strings.Contains(err.Error(), phrase) {
			t.Errorf("no confirmation: %v; want the phrase named", err)
		}
		if n := s.Count("persons"); n != persons {
			t.Fatalf("%s: %d persons left of %d", name, n, persons)
		}
	}

	report := filepath.Join(dir, "report.json")
	_, text, err = runCmd(append(append([]string{"wind-down"}, store...), "--confirm", phrase, "--out", report)...)
	if err != nil {
		t.Fatalf("wind-down: %v\n%s", err, text)
	}
	if n := s.Count("persons"); n != 0 {
		t.Fatalf("%d persons after the wind-down", n)
	}
	out, text, err = runCmd("wind-down", "verify-report", "--trust-list", trust, report)
	if err != nil || out["valid"] != true {
		t.Fatalf("verify-report: %v\n%s", err, text)
	}
	// The key that verifies the report is not retired afterwards.
	if _, text, err := runCmd("keys", "rotate", "--db", s.App.Config.DB, "--key-file", s.App.Config.KeyFile); err == nil ||
		!strings.Contains(err.Error(), "emergency ended") {
		t.Fatalf("keys rotate after the wind-down: %v\n%s", err, text)
	}
	out, text, err = runCmd("wind-down", "verify-report", "--server", s.URL, report)
	if err != nil || out["valid"] != true {
		t.Fatalf("verify-report --server after the wind-down: %v\n%s", err, text)
	}
	raw, _ := os.ReadFile(report)
	var signed winddown.Signed
	if err := json.Unmarshal(raw, &signed); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, signed.Report)
	changed := strings.Replace(compact.String(), `"region":"341881"`, `"region":"341882"`, 1)
	if changed == compact.String() {
		t.Fatal("the test did not change the report")
	}
	signed.Report = json.RawMessage(changed)
	altered, _ := json.Marshal(signed)
	os.WriteFile(report, altered, 0o600)
	out, text, err = runCmd("wind-down", "verify-report", "--trust-list", trust, report)
	if ec, ok := err.(exitCode); !ok || ec != 1 || out["valid"] != false {
		t.Fatalf("altered report: %v\n%s", err, text)
	}
}
