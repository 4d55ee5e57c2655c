package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations live in migrations/NNNN_name.sql, in the dialect both engines
// share. Where they cannot share, a migration has two files instead:
// NNNN_name.sqlite.sql and NNNN_name.postgres.sql. Numbers are never reused
// and a landed migration is never edited: add a new one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one schema step for one engine.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the steps for an engine in order.
func Migrations(e Engine) ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]Migration{}
	for _, ent := range entries {
		name := ent.Name()
		base := strings.TrimSuffix(name, ".sql")
		engineSpecific := false
		switch {
		case strings.HasSuffix(base, ".sqlite"):
			if e != SQLite {
				continue
			}
			base, engineSpecific = strings.TrimSuffix(base, ".sqlite"), true
		case strings.HasSuffix(base, ".postgres"):
			if e != Postgres {
				continue
			}
			base, engineSpecific = strings.TrimSuffix(base, ".postgres"), true
		}
		num, label, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("db: migration file %q is not NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		if prev, dup := byVersion[v]; dup && !engineSpecific {
			return nil, fmt.Errorf("db: migration %d defined twice (%s, %s)", v, prev.Name, label)
		}
		if _, dup := byVersion[v]; dup && engineSpecific {
			return nil, fmt.Errorf("db: migration %d has both a shared and an engine-specific file", v)
		}
		byVersion[v] = Migration{Version: v, Name: label, SQL: string(body)}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies the migrations not yet applied, each in its own
// transaction. On PostgreSQL an advisory lock keeps nodes that start together
// from racing; on SQLite the single writer does.
func (d *DB) Migrate(ctx context.Context) error {
	ms, err := Migrations(d.engine)
	if err != nil {
		return err
	}
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	defer conn.Close()
	if d.engine == Postgres {
		// A migration may rebuild a big table, and a node waits here for
		// another's: neither is bounded by --db-statement-timeout.
		if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
			return fmt.Errorf("db: migrate: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `RESET statement_timeout`)
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7274321)`); err != nil {
			return fmt.Errorf("db: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7274321)`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("db: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("db: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := applyOne(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: migration %04d_%s: %w", m.Version, m.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("db: migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("db: record migration %04d: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit migration %04d_%s: %w", m.Version, m.Name, err)
	}
	return nil
}

// Version is the highest applied migration.
func (d *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := d.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("db: schema version: %w", err)
	}
	return int(v.Int64), nil
}
