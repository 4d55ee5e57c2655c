package server_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// nginxExample is the balancer's configuration from docs/SCALE.md, with the
// example's addresses replaced by the nodes' and the balancer's: the test
// runs what the page shows, so the page cannot drift from what was tested.
func nginxExample(t *testing.T, listen string, nodes []string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "SCALE.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 1 {
		t.Fatalf("docs/SCALE.md has %d nginx examples, want 1", len(blocks))
	}
	conf := blocks[0][1]
	replace := func(old, new string) {
		if n := strings.Count(conf, old); n != 1 {
			t.Fatalf("docs/SCALE.md's nginx example has %q %d times, want once (the test puts its own addresses there)", old, n)
		}
		conf = strings.Replace(conf, old, new, 1)
	}
	replace("listen 8080;", "listen "+listen+";")
	for i, n := range nodes {
		replace(fmt.Sprintf("server 127.0.0.1:%d;", 8081+i), "server "+n+";")
	}
	return conf
}

// TestThreeNodesBehindNginx runs docs/SCALE.md's example: three `serve`
// processes on one PostgreSQL behind nginx (the Debian package) with the
// page's configuration. Requests through nginx reach all three nodes, a
// resident logs in and shows a code through it whatever node each request
// reaches, and once one node is killed every request still succeeds.
func TestThreeNodesBehindNginx(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("process test: skipped under -short")
	}
	bin := "/usr/sbin/nginx"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("nginx"); err != nil {
			dbtest.SkipOrFail(t, "nginx is not installed (Debian: apt-get install nginx)")
		}
	}
	c := startCluster(t, 3, 15*time.Second, "--trusted-proxies", "127.0.0.1")
	defer c.stop()
	var nodes []string
	for _, p := range c.nodes {
		u, err := url.Parse(p.url)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, u.Host)
	}

	// nginx as the test's user, everything it writes in the temporary
	// directory, on a free loopback port.
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;\n" // workers would run as nobody, who cannot write in the test's directory
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
%[2]sevents { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[3]s}
`, dir, user, nginxExample(t, listen, nodes))
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ngx := exec.Command(bin, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log"))
	ngx.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var ngxOut strings.Builder
	ngx.Stdout, ngx.Stderr = &ngxOut, &ngxOut
	if err := ngx.Start(); err != nil {
		t.Fatal(err)
	}
	ngxExited := make(chan error, 1)
	go func() { ngxExited <- ngx.Wait() }()
	// The master and its worker are one process group: none outlives the test.
	t.Cleanup(func() { syscall.Kill(-ngx.Process.Pid, syscall.SIGKILL) })
	errorLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return ngxOut.String() + string(b)
	}
	base := "http://" + listen
	client := &http.Client{Timeout: 10 * time.Second}
	ready := func() (int, string, error) {
		res, err := client.Get(base + "/readyz")
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		var r readiness
		json.NewDecoder(res.Body).Decode(&r)
		return res.StatusCode, r.Node, nil
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if code, _, err := ready(); err == nil && code == 200 {
			break
		}
		select {
		case err := <-ngxExited:
			t.Fatalf("nginx exited: %v\n%s", err, errorLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer in 10 s\n%s", errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	spread := func(n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for range n {
			code, node, err := ready()
			if err != nil || code != 200 {
				t.Fatalf("readyz through nginx: %d %v\n%s", code, err, errorLog())
			}
			seen[node]++
		}
		return seen
	}
	if seen := spread(30); len(seen) != 3 {
		t.Fatalf("30 requests through nginx reached %v, want all of %v", seen, c.names)
	}

	// A resident logs in, registers and shows a code through the balancer:
	// sessions and one-time codes are in the database, not on a node.
	e := servertest.NewClient(t, base)
	token, _ := e.Resident("13900000001", "鲍甲乙", rid("19850101", 701), "341881002")
	for range 6 {
		e.Want(e.Do("GET", "/api/v1/me/code", token, nil), 200, "")
	}

	// Kill node2 under load: nginx gives its share to the others.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var answered int
	var failures []string
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest("GET", base+"/api/v1/me/code", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := client.Do(req)
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case res.StatusCode != 200:
					failures = append(failures, res.Status)
				default:
					answered++
				}
				mu.Unlock()
				if err == nil {
					res.Body.Close()
				}
			}
		}()
	}
	time.Sleep(time.Second)
	if err := c.nodes[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.nodes[1].exited
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests through nginx failed around the kill, e.g. %s\n%s", len(failures), len(failures)+answered, failures[0], errorLog())
	}
	seen := spread(30)
	if len(seen) != 2 || seen[c.names[1]] > 0 {
		t.Fatalf("after node2 was killed, 30 requests reached %v, want node1 and node3", seen)
	}
	t.Logf("%d code requests through nginx around the kill, none failed; afterwards %v", answered, seen)

	if err := ngx.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ngxExited:
	case <-time.After(15 * time.Second):
		t.Errorf("nginx did not stop in 15 s\n%s", errorLog())
	}
}
