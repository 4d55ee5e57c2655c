package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// startServe runs `healthcode serve` in-process and returns its URL once it
// prints it, and a function that stops it (as SIGINT would) and waits.
func startServe(t *testing.T, args ...string) (url string, stop func() error, out *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--drain", "0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	out = &bytes.Buffer{}
	urlRe := regexp.MustCompile(`running at (http://\S+)`)
	sc := bufio.NewScanner(pr)
	found := make(chan string, 1)
	go func() {
		sent := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if m := urlRe.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case url = <-found:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v\n%s", err, out)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not start in 60 s")
	}
	return url, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return context.DeadlineExceeded
		}
	}, out
}

func TestServeDemoStartsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url, stop, out := startServe(t, "--demo", "--demo-residents", "500", "--data-dir", dir)
	res, err := http.Get(url + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("serve did not shut down cleanly: %v", err)
	}
	for _, want := range []string{"Generated a new master key", "Demo: Ningguo", "admin ", "13800000001", "/console"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The second start keeps the data and the key (and prints no password).
	_, stop, out = startServe(t, "--demo", "--demo-residents", "500", "--data-dir", dir)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Generated a new master key") {
		t.Fatal("a second start generated another master key")
	}

	var stdout, stderr bytes.Buffer
	if err := realMain(context.Background(), []string{"audit", "verify", "--data-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("audit verify on an untouched log: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "healthcode.db"))
	if err != nil {
		t.Fatal(err)
	}
	// The start signed a head; an operator keeps a copy of the heads.
	kept := filepath.Join(dir, "heads.json")
	if err := realMain(context.Background(), []string{"audit", "heads", "--data-dir", dir, "--out", kept}, &stdout, &stderr); err != nil {
		t.Fatalf("audit heads: %v\n%s", err, stderr.String())
	}
	var doc struct {
		Keys  []struct{ KID string }
		Heads []struct {
			LogSeq int64 `json:"log_seq"`
		}
	}
	if b, err := os.ReadFile(kept); err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Heads) == 0 || len(doc.Keys) == 0 || doc.Heads[0].LogSeq < 4 {
		t.Fatalf("kept heads: %v %+v", err, doc)
	}
	// Someone who can write the database cuts the log's tail, moves the
	// head row and deletes the signed heads: the chain still holds, the
	// kept heads do not.
	for _, q := range []string{`DELETE FROM audit_log WHERE seq > 3`,
		`UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)`, `DELETE FROM audit_heads`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	if err := realMain(context.Background(), []string{"audit", "verify", "--data-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("the chain alone should hold after a clean cut: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	err = realMain(context.Background(), []string{"audit", "verify", "--data-dir", dir, "--heads", kept}, &stdout, &stderr)
	if code, ok := err.(exitCode); !ok || code != 1 || !strings.Contains(stdout.String(), "but the log ends at entry 3") {
		t.Fatalf("audit verify --heads after a cut tail: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'operator:nobody' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = realMain(context.Background(), []string{"audit", "verify", "--data-dir", dir}, &stdout, &stderr)
	if code, ok := err.(exitCode); !ok || code != 1 || !strings.Contains(stdout.String(), "edited") {
		t.Fatalf("audit verify after an edit: %v\n%s", err, stdout.String())
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("HEALTHCODE_ADDR", "127.0.0.1:notaport") // cannot be bound: proves the variable was read
	dir := t.TempDir()
	err := realMain(context.Background(), []string{"serve", "--data-dir", dir}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "notaport") {
		t.Fatalf("HEALTHCODE_ADDR not used: %v", err)
	}
	t.Setenv("HEALTHCODE_OTP_PER_DAY", "many")
	err = realMain(context.Background(), []string{"serve", "--data-dir", dir}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HEALTHCODE_OTP_PER_DAY") {
		t.Fatalf("a bad environment value was not reported: %v", err)
	}
}

func TestMigrateAndUnknownCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := realMain(context.Background(), []string{"migrate", "--data-dir", t.TempDir()}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "schema version") {
		t.Fatalf("migrate printed %q", out.String())
	}
	if err := realMain(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(asBinary) == "1" { // a child process a test started, e.g. loadgen's server
		main()
		os.Exit(0)
	}
	// The tests say what they configure; settings of the machine they run
	// on (HEALTHCODE_DB, _URL, _ADMIN_PASSWORD ...) would change them.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "HEALTHCODE_") && name != "HEALTHCODE_PG_BIN" {
			os.Unsetenv(name)
		}
	}
	os.Exit(m.Run())
}

func TestSMSFlagsAreChecked(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sms-provider", "kannel"}, "--kannel-url"},
		{[]string{"--sms-provider", "kannel", "--kannel-url", "http://127.0.0.1:13013/", "--kannel-user", "hc"}, "HEALTHCODE_KANNEL_PASSWORD"},
		{[]string{"--sms-provider", "carrier-pigeon"}, "outbox or kannel"},
		{[]string{"--sms-rate", "fast"}, "sms-rate"},
		{[]string{"--sms-phone-rate", "0/1m"}, "sms-phone-rate"},
		{[]string{"--sms-lang", "fr"}, "zh-CN or en"},
	} {
		err := realMain(context.Background(), append([]string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0"}, c.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error about %s", c.args, err, c.want)
		}
	}
}

// The demo's passwords are printed when they are made, once; never one that
// came from the configuration.
func TestDemoPrintsPasswordsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	t.Parallel()
	adminRe := regexp.MustCompile(`(?m)^  admin\s+(\S+)\s+role`)
	serve := func(args ...string) string {
		t.Helper()
		// A small simulated history: the passwords are what this is about,
		// and the full history's minute on a loaded CI machine is not.
		_, stop, out := startServe(t, append(args, "--demo-residents", "300")...)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	dir := t.TempDir()
	first := serve("--demo", "--data-dir", dir)
	m := adminRe.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("the first start printed no admin password:\n%s", first)
	}
	second := serve("--demo", "--data-dir", dir)
	if strings.Contains(second, m[1]) || strings.Contains(second, " role ") || !strings.Contains(second, "not printed again") {
		t.Fatalf("a second start printed passwords:\n%s", second)
	}
	third := serve("--demo", "--demo-new-passwords", "--data-dir", dir)
	if n := adminRe.FindStringSubmatch(third); n == nil || n[1] == m[1] {
		t.Fatalf("--demo-new-passwords printed no new admin password:\n%s", third)
	}

	const chosen = "a password from the environment"
	out := serve("--demo", "--data-dir", t.TempDir(), "--admin-password", chosen)
	if strings.Contains(out, chosen) {
		t.Fatalf("a configured password was printed:\n%s", out)
	}
	if !strings.Contains(out, "(the one you set)") {
		t.Fatalf("admin's line does not say the password is the configured one:\n%s", out)
	}
}
