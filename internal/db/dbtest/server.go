package dbtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

type server struct {
	dir   string // data directory and unix socket directory
	user  string
	admin *sql.DB // connection to the maintenance database
	cmu   sync.Mutex
}

var (
	srvOnce sync.Once
	srvInst *server
	srvErr  error
)

func sharedServer() (*server, error) {
	srvOnce.Do(func() { srvInst, srvErr = startServer() })
	return srvInst, srvErr
}

// pgBinDir finds the PostgreSQL server binaries.
func pgBinDir() (string, error) {
	if d := os.Getenv("HEALTHCODE_PG_BIN"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgMajor(matches[i]) > pgMajor(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin, pg_config or PATH; set HEALTHCODE_PG_BIN")
}

func pgMajor(initdbPath string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdbPath))))
	return v
}

// credential runs the server as an unprivileged user when we are root:
// PostgreSQL refuses to run as root.
func credential() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, "", err
		}
		return nil, u.Username, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, "", fmt.Errorf("running as root and there is no 'postgres' user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, u.Username, nil
}

func startServer() (*server, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	cred, username, err := credential()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", "hcpg")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", username, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}

	// The server must die with the test binary, even when it is killed, so it
	// is started from a goroutine locked to its OS thread (Pdeathsig fires when
	// the creating thread exits) and never returns.
	started := make(chan error, 1)
	logf := filepath.Join(dir, "server.log")
	go func() {
		runtime.LockOSThread()
		lf, err := os.Create(logf)
		if err != nil {
			started <- err
			return
		}
		// 128MB serves every test; a benchmark at province size sets more
		// (HEALTHCODE_PG_SHARED_BUFFERS=4GB), as a deployment of that size
		// would: with 128MB the indexes of 10M persons (random keys, 300MB
		// each) no longer fit, and every insert evicts and writes back pages.
		buffers := "128MB"
		if v := os.Getenv("HEALTHCODE_PG_SHARED_BUFFERS"); v != "" {
			buffers = v
		}
		cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir,
			"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers="+buffers,
			// A bulk write (a risk area over a city of a million) writes
			// WAL fast enough that with the default 1GB PostgreSQL starts a
			// checkpoint every 15-20 seconds during it. docs/OPERATIONS.md
			// recommends 16GB for a province, and the benchmarks measure that.
			"-c", "max_wal_size=16GB")
		cmd.Stdout, cmd.Stderr = lf, lf
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		select {} // keep this thread alive for the life of the process
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{dir: dir, user: username}
	admin, err := sql.Open("pgx", s.url("postgres"))
	if err != nil {
		return nil, err
	}
	s.admin = admin
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := admin.Ping()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf)
			return nil, fmt.Errorf("postgres did not become ready: %v\n%s", err, bytes.TrimSpace(log))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.makeTemplate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *server) url(dbname string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&sslmode=disable", s.user, dbname, s.dir)
}

func (s *server) makeTemplate() error {
	ctx := context.Background()
	if _, err := s.admin.ExecContext(ctx, `CREATE DATABASE tmpl`); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	d, err := db.Open(ctx, s.url("tmpl"))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

func (s *server) clone(ctx context.Context, name string) error {
	// CREATE DATABASE ... TEMPLATE fails if another clone is reading the
	// template at the same moment, so clones are made one at a time.
	s.cmu.Lock()
	defer s.cmu.Unlock()
	_, err := s.admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE tmpl`)
	return err
}

func (s *server) drop(ctx context.Context, name string) {
	s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
}

// removeStale deletes the directories of servers whose test binary has gone
// (the server died with it, see Pdeathsig) so repeated runs do not fill /tmp.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "hcpg*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
			continue
		}
		pidfile, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid"))
		if err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidfile), "\n", 2)[0]))
			if pid > 0 && syscall.Kill(pid, 0) == nil {
				continue
			}
		}
		os.RemoveAll(d)
	}
}
