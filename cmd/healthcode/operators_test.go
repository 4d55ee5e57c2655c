package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// The only administrator, locked out, is let back in on the server: a new
// password printed once; the old one stops working.
func TestOperatorsRecover(t *testing.T) {
	t.Parallel()
	s := servertest.Start(t, db.SQLite)
	store := []string{"--db", s.App.Config.DB, "--key-file", s.App.Config.KeyFile, "--region", servertest.Region}
	if _, text, err := runCmd("operators"); err == nil || !strings.Contains(text, "operators recover --username") {
		t.Fatalf("no subcommand: %v\n%s", err, text)
	}
	_, _, err := runCmd(append([]string{"operators", "recover", "--username", "nobody"}, store...)...)
	if !errors.Is(err, auth.ErrOperatorNotFound) {
		t.Fatalf("an unknown operator: %v", err)
	}
	_, text, err := runCmd(append([]string{"operators", "recover", "--username", "admin", "--reset-totp"}, store...)...)
	m := regexp.MustCompile(`New password of admin \(shown once\): (\S+)`).FindStringSubmatch(text)
	if err != nil || m == nil {
		t.Fatalf("recover: %v\n%s", err, text)
	}
	ctx := context.Background()
	if _, _, err := s.App.Auth.OperatorLogin(ctx, "admin", servertest.AdminPassword); err == nil {
		t.Error("the old password still logs in")
	}
	if _, _, err := s.App.Auth.OperatorLogin(ctx, "admin", m[1]); err != nil {
		t.Errorf("the new password: %v", err)
	}
}
