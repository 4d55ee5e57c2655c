package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/healthcode/healthcode/internal/server"
)

const operatorsUsage = `usage: healthcode operators recover --username NAME [--reset-totp] [store flags]

The way back in when no administrator can log in (the only one forgot the password or lost the phone
with the second factor): gives the operator a new password, printed once, ends their sessions and, with
--reset-totp, turns their second factor off. Run it on the server, with the database and master key;
it is audited. Otherwise an administrator resets a colleague's second factor on the console's
operators page.`

func operatorsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "recover" {
		fmt.Fprintln(stderr, operatorsUsage)
		return fmt.Errorf("operators: want the subcommand recover")
	}
	fs := flag.NewFlagSet("operators recover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, operatorsUsage); fs.PrintDefaults() }
	var cfg server.Config
	storeFlags(fs, &cfg)
	username := fs.String("username", "", "the operator to let back in")
	resetTOTP := fs.Bool("reset-totp", false, "also turn off the operator's second factor (a lost phone)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("operators recover: give --username")
	}
	var err error
	if cfg.Log, err = newLogger(stderr, "warn", "text"); err != nil {
		return err
	}
	app, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	password, err := app.Auth.RecoverOperator(ctx, *username, *resetTOTP)
	if err != nil {
		return fmt.Errorf("operators recover: %w", err)
	}
	fmt.Fprintf(stdout, "New password of %s (shown once): %s\n", *username, password)
	if *resetTOTP {
		fmt.Fprintln(stdout, "Two-step login is off; it asks for it again at the next login where administrators must use it.")
	}
	return nil
}
