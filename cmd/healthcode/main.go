// Command healthcode is the health code platform: one binary with
// subcommands. Run `healthcode serve --demo` to try it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop (serve drains); a second one
	// ends the process at once, as if no handler were installed.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var exit exitCode
	switch {
	case errors.As(err, &exit):
		os.Exit(int(exit))
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "healthcode:", err)
		os.Exit(1)
	}
}

// exitCode ends the program with a status and no message (the command has
// already printed what it had to say, e.g. `verify` on an invalid code).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (API, pages, background work)", serve},
		{"migrate", "apply database migrations and exit", migrate},
		{"audit", "audit log tools: verify (against the signed heads), heads (export them)", auditCmd},
		{"backup", "copy the database to a file while it serves (docs/OPERATIONS.md)", backupCmd},
		{"restore", "restore a backup into a fresh database", restoreCmd},
		{"operators", "recover: let an operator back in (new password, second factor off)", operatorsCmd},
		{"keys", "code-signing keys: generate, rotate, list; the federation key", keysCmd},
		{"hub", "run the federation hub; enrol regions (docs/FEDERATION.md)", hubCmd},
		{"verify", "check a code (or, with --foreign, a DCC or SMART Health Card) offline", verifyCmd},
		{"trust", "trust material for foreign credentials: import, list", trustCmd},
		{"import", "import CSV lists: the population by grid and household, cases, contacts, arrivals", importCmd},
		{"wind-down", "end the emergency: stop codes, destroy personal data, sign a report", windDownCmd},
		{"loadgen", "measure a server against a bare net/http handler (docs/PERFORMANCE.md)", loadgenCmd},
	}
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: healthcode COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `healthcode COMMAND -h` for a command's flags. Every flag can also be set as an\nenvironment variable: --otp-interval is HEALTHCODE_OTP_INTERVAL.")
}

// parseFlags parses args and then fills every flag not given on the command
// line from its environment variable, HEALTHCODE_ plus the flag name in upper
// case with '-' as '_'. Command line beats environment beats default.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		env := "HEALTHCODE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	// Only these commands take operands (a code, a report file, the lists).
	if fs.NArg() > 0 && fs.Name() != "verify" && fs.Name() != "wind-down verify-report" && fs.Name() != "import" {
		errs = append(errs, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	return errors.Join(errs...)
}
