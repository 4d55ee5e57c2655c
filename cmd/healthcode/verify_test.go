package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// residentCode registers a resident and returns a fresh code of theirs and
// the session token.
func residentCode(c *servertest.Client, phone, id string) (code, token string) {
	token, _ = c.Resident(phone, "张三丰", id, "")
	return c.Want(c.Do("GET", "/api/v1/me/code", token, nil), 200, "").Str("code"), token
}

// scanPNG reads the QR of GET path with gozxing, a decoder independent of
// the encoder, as a checkpoint's camera would.
func scanPNG(t *testing.T, c *servertest.Client, path, token string) string {
	t.Helper()
	res, body := c.GetAuth(path, token)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	r, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		// See internal/codeformat/qr_test.go: gozxing's finder search misses a
		// few clean symbols, which the pure-barcode mode reads.
		r, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.GetText()
}

func residentID(first17 string) string {
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

func runCmd(args ...string) (map[string]any, string, error) {
	var stdout, stderr bytes.Buffer
	err := realMain(context.Background(), args, &stdout, &stderr)
	var out map[string]any
	json.Unmarshal(stdout.Bytes(), &out)
	return out, stdout.String() + stderr.String(), err
}

func TestVerifyCommandWithTheServersTrustList(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, db.SQLite)
	url := s.URL
	_, tok := residentCode(s.Client, "13900000201", residentID("34188119850312201"))
	code := scanPNG(t, s.Client, "/api/v1/me/code.png", tok)

	// The code read off the resident's QR image, with the server's trust list.
	out, text, err := runCmd("verify", "--server", url, code)
	if err != nil || out["valid"] != true || out["masked_name"] != "张*丰" || out["kind"] != "dynamic" || out["color"] != "green" {
		t.Fatalf("verify --server: %v\n%s", err, text)
	}
	// From a trust-list file, the code on standard input with a scanner's CR/LF.
	res, err := http.Get(url + "/api/v1/trust-list")
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := io.ReadAll(res.Body)
	res.Body.Close()
	file := filepath.Join(dir, "trust.json")
	os.WriteFile(file, tl, 0o600)
	withStdin(t, code+"\r\n", func() {
		out, text, err = runCmd("verify", "--trust-list", file)
	})
	if err != nil || out["valid"] != true {
		t.Fatalf("verify --trust-list with stdin: %v\n%s", err, text)
	}
	// Refused with the reason and exit status 1: expired, altered, unknown key.
	out, text, err = runCmd("verify", "--trust-list", file, "--at", time.Now().Add(time.Hour).Format(time.RFC3339), code)
	if ec, ok := err.(exitCode); !ok || ec != 1 || out["valid"] != false || !strings.Contains(text, `"expired"`) {
		t.Fatalf("an hour later: %v\n%s", err, text)
	}
	swap := "A"
	if code[100] == 'A' {
		swap = "B"
	}
	altered := code[:100] + swap + code[101:]
	out, text, err = runCmd("verify", "--trust-list", file, altered)
	if _, ok := err.(exitCode); !ok || out["valid"] != false || len(out["reasons"].([]any)) == 0 {
		t.Fatalf("altered code: %v\n%s", err, text)
	}
	os.WriteFile(file, []byte(`{"keys":[]}`), 0o600)
	out, text, err = runCmd("verify", "--trust-list", file, code)
	if _, ok := err.(exitCode); !ok || !strings.Contains(text, `"unknown_key"`) {
		t.Fatalf("empty trust list: %v\n%s", err, text)
	}
	// Usage errors are errors, not verdicts.
	if _, _, err := runCmd("verify", code); err == nil || strings.Contains(err.Error(), "exit status") {
		t.Fatalf("verify without a trust list: %v", err)
	}
	os.WriteFile(file, []byte(`{"keys":[{"kid":"x"}]}`), 0o600)
	if _, _, err := runCmd("verify", "--trust-list", file, code); err == nil || !strings.Contains(err.Error(), "trust list") {
		t.Fatalf("a bad trust list: %v", err)
	}
	if _, _, err := runCmd("verify", "--trust-list", file, "--at", "yesterday", code); err == nil || !strings.Contains(err.Error(), "--at") {
		t.Fatalf("a bad --at: %v", err)
	}
}

func withStdin(t *testing.T, input string, fn func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(input)
	w.Close()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin, _ = old, r.Close() }()
	fn()
}

func TestKeysCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Before the first start an operator chooses SM2.
	if _, text, err := runCmd("keys", "generate", "--alg", "sm2", "--data-dir", dir); err != nil || !strings.Contains(text, "(SM2)") {
		t.Fatalf("keys generate: %v\n%s", err, text)
	}
	if _, _, err := runCmd("keys", "generate", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "key_exists") {
		t.Fatalf("a second generate: %v", err)
	}
	if _, _, err := runCmd("keys", "generate", "--alg", "rsa", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "alg_unknown") {
		t.Fatalf("generate rsa: %v", err)
	}
	if _, _, err := runCmd("keys", "rotate", "--grace", "5s", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "--grace") {
		t.Fatalf("a grace shorter than the reload period: %v", err)
	}
	if _, text, err := runCmd("keys", "rotate", "--alg", "es256", "--data-dir", dir); err != nil || !strings.Contains(text, "(ES256) is published now") {
		t.Fatalf("keys rotate: %v\n%s", err, text)
	}
	if _, _, err := runCmd("keys", "rotate", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "rotation_pending") {
		t.Fatalf("a second rotate during the grace: %v", err)
	}
	out, text, err := runCmd("keys", "list", "--json", "--data-dir", dir)
	ks, _ := out["keys"].([]any)
	if err != nil || len(ks) != 2 || ks[0].(map[string]any)["state"] != "pending" || ks[1].(map[string]any)["state"] != "active" {
		t.Fatalf("keys list --json: %v\n%s", err, text)
	}
	if _, text, err := runCmd("keys", "list", "--data-dir", dir); err != nil || strings.Count(text, "\n") != 3 || !strings.Contains(text, "pending") {
		t.Fatalf("keys list: %v\n%s", err, text)
	}
	if _, _, err := runCmd("keys", "frob", "--data-dir", dir); err == nil {
		t.Fatal("an unknown subcommand was accepted")
	}

	// A server on that store signs with the SM2 key until the switch and
	// publishes both.
	url, stop, _ := startServe(t, "--data-dir", dir, "--admin-password", servertest.AdminPassword)
	defer stop()
	cd, _ := residentCode(servertest.NewClient(t, url), "13900000202", residentID("34188119850312202"))
	d, err := codeformat.Decode(cd)
	if err != nil || d.Alg != codeformat.AlgSM2 {
		t.Fatalf("the server signs with %v, want SM2 (%v)", d.Alg, err)
	}
	var tl codeformat.TrustList
	res, _ := http.Get(url + "/api/v1/trust-list")
	json.NewDecoder(res.Body).Decode(&tl)
	res.Body.Close()
	if len(tl) != 2 {
		t.Fatalf("the trust list has %d keys, want the SM2 key and the announced ES256 key", len(tl))
	}
	if out, text, err := runCmd("verify", "--server", url, cd); err != nil || out["valid"] != true {
		t.Fatalf("verify an SM2 code: %v\n%s", err, text)
	}
}
