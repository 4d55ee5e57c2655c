package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// ackedCheckin is one check-in the server acknowledged.
type ackedCheckin struct {
	venue    string
	at       int64 // unix ms
	resident int   // which of the load's residents
}

// load checks residents in at venues as fast as the server answers until
// stop is closed, and records each check-in the server acknowledged.
type load struct {
	mu    sync.Mutex
	acked []ackedCheckin
	fails []string
	wg    sync.WaitGroup
	stop  chan struct{}
}

func startLoad(url string, tokens []string, venues map[string]string) *load {
	l := &load{stop: make(chan struct{})}
	for i, tok := range tokens {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				var token string
				k := 0
				for _, tk := range venues {
					if k == (i+n)%len(venues) {
						token = tk
					}
					k++
				}
				body, _ := json.Marshal(map[string]any{"venue_token": token})
				req, _ := http.NewRequest("POST", url+"/api/v1/checkins", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					l.fail(err.Error())
					return
				}
				var out struct {
					VenueID     string    `json:"venue_id"`
					CheckedInAt time.Time `json:"checked_in_at"`
				}
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated || err != nil {
					l.fail(fmt.Sprintf("check-in: %d %v", res.StatusCode, err))
					return
				}
				l.mu.Lock()
				l.acked = append(l.acked, ackedCheckin{out.VenueID, out.CheckedInAt.UnixMilli(), i})
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) fail(s string) {
	l.mu.Lock()
	l.fails = append(l.fails, s)
	l.mu.Unlock()
}

// snapshot is what the server has acknowledged so far.
func (l *load) snapshot() []ackedCheckin {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ackedCheckin(nil), l.acked...)
}

func (l *load) end(t *testing.T) {
	close(l.stop)
	l.wg.Wait()
	if len(l.fails) > 0 {
		t.Fatalf("the load failed: %v", l.fails)
	}
}

// missing counts the acknowledged check-ins the database at dsn lacks.
func missing(t *testing.T, dsn string, acked []ackedCheckin) int {
	t.Helper()
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A resident's two check-ins at a venue in one millisecond are one
	// row (the key is place, time, person): count residents per place and
	// time.
	type key struct {
		venue string
		at    int64
	}
	residents := map[key]map[int]bool{}
	for _, c := range acked {
		k := key{c.venue, c.at}
		if residents[k] == nil {
			residents[k] = map[int]bool{}
		}
		residents[k][c.resident] = true
	}
	got := map[key]int{}
	err = db.Each(context.Background(), d, `SELECT p.ref, c.at FROM checkins c JOIN places p ON p.num = c.place WHERE p.kind = 'venue'`, nil,
		func(sc db.Scanner) error {
			var k key
			if err := sc.Scan(&k.venue, &k.at); err != nil {
				return err
			}
			got[k]++
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for k, who := range residents {
		lost += max(0, len(who)-got[k])
	}
	return lost
}

// TestBackupUnderLoadLosesNoAcknowledgedWrite backs up a serving database
// while residents check in, restores the backup into a fresh database,
// and finds there every check-in the server acknowledged before the backup
// began.
func TestBackupUnderLoadLosesNoAcknowledgedWrite(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--data-dir", dir, "--admin-password", servertest.AdminPassword}
			src, fresh := "sqlite:"+filepath.Join(dir, "healthcode.db"), "sqlite:"+filepath.Join(t.TempDir(), "restored", "healthcode.db")
			if engine == db.Postgres {
				src, fresh = dbtest.PostgresURL(t), emptyPostgres(t)
				args = append(args, "--db", src)
			}
			url, stop, _ := startServe(t, args...)
			defer stop()
			c := servertest.NewClient(t, url)
			admin := c.Admin()
			venues := map[string]string{}
			for _, name := range []string{"西津农贸市场", "宁国市人民医院", "河沥溪汽车站"} {
				id, token := c.Venue(admin, name, "market", "341881001")
				venues[id] = token
			}
			var tokens []string
			for i := range 4 {
				tok, _ := c.Resident(fmt.Sprintf("1390000050%d", i), "居民", residentID(fmt.Sprintf("3418811985031250%d", i)), "")
				tokens = append(tokens, tok)
			}

			l := startLoad(url, tokens, venues)
			for len(l.snapshot()) < 200 {
				time.Sleep(10 * time.Millisecond)
			}
			before := l.snapshot()
			file := filepath.Join(t.TempDir(), "healthcode.backup")
			_, text, err := runCmd("backup", "--db", src, "--out", file)
			after := len(l.snapshot())
			l.end(t)
			if err != nil {
				t.Fatalf("backup: %v\n%s", err, text)
			}
			if after <= len(before) {
				t.Fatalf("no check-in was answered while the backup ran (%d before, %d after)", len(before), after)
			}
			if _, text, err := runCmd("restore", "--db", fresh, "--in", file); err != nil {
				t.Fatalf("restore: %v\n%s", err, text)
			}
			if n := missing(t, fresh, before); n != 0 {
				t.Fatalf("%d of the check-ins acknowledged before the backup are missing after the restore (%d acknowledged)", n, len(before))
			}
			// The restored database is whole: its audit chain verifies.
			if _, text, err := runCmd("audit", "verify", "--db", fresh); err != nil {
				t.Fatalf("audit verify on the restored database: %v\n%s", err, text)
			}
			t.Logf("%d check-ins acknowledged before the backup (%d by its end): none missing after the restore", len(before), after)
		})
	}
}

// emptyPostgres is a new database on the test server without a schema.
func emptyPostgres(t *testing.T) string {
	t.Helper()
	dsn := dbtest.PostgresURL(t)
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ExecContext(context.Background(), `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func TestRestoreRefusesToTakeTheSchemaBack(t *testing.T) {
	dir := t.TempDir()
	src := "sqlite:" + filepath.Join(dir, "healthcode.db")
	if _, text, err := runCmd("migrate", "--db", src, "--data-dir", dir); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	file := filepath.Join(dir, "b1")
	if _, text, err := runCmd("backup", "--db", src, "--out", file); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	bump := func(path string) {
		t.Helper()
		d, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99999, 'from_the_future', 0)`); err != nil {
			t.Fatal(err)
		}
	}
	// A database a newer healthcode has migrated.
	newer := filepath.Join(t.TempDir(), "newer.db")
	if _, text, err := runCmd("restore", "--db", "sqlite:"+newer, "--in", file); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	bump(newer)
	// A backup a newer healthcode made.
	future := filepath.Join(dir, "b2")
	if _, text, err := runCmd("backup", "--db", "sqlite:"+newer, "--out", future); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	notBackup := filepath.Join(dir, "notes.txt")
	os.WriteFile(notBackup, []byte("not a database"), 0o600)
	same := filepath.Join(t.TempDir(), "same.db")
	if _, _, err := runCmd("restore", "--db", "sqlite:"+same, "--in", file); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"onto a newer schema, even with --force", []string{"restore", "--db", "sqlite:" + newer, "--in", file, "--force"}, "restore_schema_newer"},
		{"a backup of a newer healthcode", []string{"restore", "--db", "sqlite:" + filepath.Join(t.TempDir(), "x.db"), "--in", future}, "backup_schema_newer"},
		{"onto data without --force", []string{"restore", "--db", "sqlite:" + same, "--in", file}, "restore_target_not_empty"},
		{"a file that is no backup", []string{"restore", "--db", "sqlite:" + filepath.Join(t.TempDir(), "y.db"), "--in", notBackup}, "not_a_backup"},
		{"a missing backup", []string{"restore", "--db", "sqlite:" + filepath.Join(t.TempDir(), "z.db"), "--in", filepath.Join(dir, "nope")}, "database_not_found"},
		{"over an existing backup", []string{"backup", "--db", src, "--out", file}, "backup_exists"},
		{"of a database that is not there", []string{"backup", "--db", "sqlite:" + filepath.Join(dir, "absent.db"), "--out", filepath.Join(dir, "b3")}, "database_not_found"},
		{"without --out", []string{"backup", "--db", src}, "--out"},
		{"without --in", []string{"restore", "--db", src}, "--in"},
	} {
		_, text, err := runCmd(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s\n%s", c.name, err, c.want, text)
		}
	}
	// The refused restore left the newer database as it was.
	d, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	d.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	d.Close()
	if v != 99999 {
		t.Fatalf("the newer database is at %d after a refused restore", v)
	}
	if _, err := os.Stat(filepath.Join(dir, "absent.db")); err == nil {
		t.Fatal("backing up a missing database created it")
	}
	// --force replaces a database of the same schema, and moves its
	// check-in journal aside: its frames are of the replaced history, and
	// the next start would replay those beyond the restored position.
	journal := same + ".events"
	if err := os.MkdirAll(journal, 0o700); err != nil {
		t.Fatal(err)
	}
	frames := []byte("frames of the replaced database")
	if err := os.WriteFile(filepath.Join(journal, "events-000000000007.log"), frames, 0o600); err != nil {
		t.Fatal(err)
	}
	_, text, err := runCmd("restore", "--db", "sqlite:"+same, "--in", file, "--force")
	if err != nil {
		t.Fatalf("--force: %v\n%s", err, text)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Fatalf("the replaced database's journal is still where the next start reads it (%v)", err)
	}
	aside, _ := filepath.Glob(journal + ".replaced-*")
	if len(aside) != 1 {
		t.Fatalf("journal moved to %v, want one directory", aside)
	}
	if got, err := os.ReadFile(filepath.Join(aside[0], "events-000000000007.log")); err != nil || !bytes.Equal(got, frames) {
		t.Fatalf("the moved journal holds %q, %v", got, err)
	}
	if !strings.Contains(text, aside[0]) {
		t.Errorf("the restore did not say where the journal went:\n%s", text)
	}
}

func TestRestoreRefusalsOnPostgres(t *testing.T) {
	src := dbtest.PostgresURL(t)
	file := filepath.Join(t.TempDir(), "pg.backup")
	if _, text, err := runCmd("backup", "--db", src, "--out", file); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if _, _, err := runCmd("restore", "--db", src, "--in", file); err == nil || !strings.Contains(err.Error(), "restore_target_not_empty") {
		t.Fatalf("onto data: %v", err)
	}
	other := dbtest.PostgresURL(t)
	if _, text, err := runCmd("restore", "--db", other, "--in", file, "--force"); err != nil {
		t.Fatalf("--force onto the same schema: %v\n%s", err, text)
	}
	d, err := db.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ExecContext(context.Background(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (99999, 'from_the_future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd("restore", "--db", src, "--in", file, "--force"); err == nil || !strings.Contains(err.Error(), "restore_schema_newer") {
		t.Fatalf("onto a newer schema: %v", err)
	}
	if v, _ := d.Version(context.Background()); v != 99999 {
		t.Fatalf("the refused restore changed the database: version %d", v)
	}
}
