package main

import (
	"context"
	"fmt"
	"io"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/server"
)

// openAs opens the store and signs in as an operator, for the commands that
// act as one (wind-down, import): the service decides what the operator may
// do, as it does for the console. The session ends at once; the principal
// stays good for the command's run. The caller closes the server.
func openAs(ctx context.Context, cmd string, cfg server.Config, username, passwordFile string, stderr io.Writer) (*server.Server, *auth.Principal, error) {
	password, err := readPassword(passwordFile)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Log, err = newLogger(stderr, "warn", "text"); err != nil {
		return nil, nil, err
	}
	app, err := server.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	token, _, err := app.Auth.OperatorLogin(ctx, username, password)
	if err == nil {
		var by *auth.Principal
		if by, err = app.Auth.Authenticate(ctx, token); err == nil {
			if err = app.Auth.Logout(ctx, token); err == nil {
				return app, by, nil
			}
			app.Close()
			return nil, nil, err
		}
	}
	app.Close()
	return nil, nil, fmt.Errorf("%s: %w", cmd, err)
}
