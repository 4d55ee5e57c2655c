package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/server/servertest"
)

// proc is the binary (this test binary, run as main) in a process of its
// own, as an operator starts it.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

var runningAt = regexp.MustCompile(`running at (http://\S+)`)

// startProc runs `healthcode ARGS` as a process and returns it with the URL
// it prints once listening; the process is interrupted (as Ctrl-C would) at
// the end of the test.
func startProc(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	c := &proc{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	// Nodes stop at once (no drain) when the test ends.
	c.cmd.Env = append(os.Environ(), asBinary+"=1", "HEALTHCODE_DRAIN=0")
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = c.cmd.Stdout
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.mu.Lock()
			c.out.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		c.cmd.Wait()
	}()
	t.Cleanup(c.stop)
	select {
	case url := <-found:
		return c, url
	case <-c.done:
		t.Fatalf("healthcode %s exited:\n%s", strings.Join(args, " "), c.output())
	case <-time.After(90 * time.Second):
		t.Fatalf("healthcode %s did not start in 90 s:\n%s", strings.Join(args, " "), c.output())
	}
	return nil, ""
}

func (c *proc) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

func (c *proc) stop() {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// freeAddr is a loopback address nothing listens on, for a node whose public
// URL (where the hub reaches it) must be known before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Path 3: a region with no deployment of its own (郎溪县, 341821) is served
// by a node the hub's operator runs on the hub's trust. Its residents
// register and get codes there, its code keys reach the hub, and a
// checkpoint of another region (宁国市) verifies those codes through the
// hub's bundle, with the live colour. A hub, the home node and the path-3
// node run as processes of their own, each on its own database.
func TestPath3RegionServedOnTheHubsTrust(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	t.Parallel()
	const home, hosted = "341881", "341821"
	dir := t.TempDir()
	hubDir, homeDir, p3Dir := filepath.Join(dir, "hub"), filepath.Join(dir, "home"), filepath.Join(dir, "p3")
	hubPEM, homePEM, p3Key := filepath.Join(dir, "hub.pem"), filepath.Join(dir, "home.pem"), filepath.Join(dir, "341821.key")
	run := func(args ...string) string {
		t.Helper()
		_, text, err := runCmd(args...)
		if err != nil {
			t.Fatalf("healthcode %s: %v\n%s", strings.Join(args, " "), err, text)
		}
		return text
	}
	run("hub", "key", "--data-dir", hubDir, "--out", hubPEM)
	// The home region enrols as every deployment does: its own key, out of band.
	run("keys", "federation", "--data-dir", homeDir, "--region", home, "--out", homePEM)
	run("hub", "enrol", "--data-dir", hubDir, "--region", home, "--key", homePEM)
	// The hosted region has no key to send: the hub derives its node's.
	if text := run("hub", "host", "--data-dir", hubDir, "--region", hosted, "--out", p3Key); !strings.Contains(text, "--key-file "+p3Key) {
		t.Fatalf("hub host does not say how to start the node:\n%s", text)
	}
	// Hosting again gives the same key: the node can be rebuilt from the hub alone.
	again := filepath.Join(dir, "again.key")
	run("hub", "host", "--data-dir", hubDir, "--region", hosted, "--out", again)
	if a, b := readFile(t, p3Key), readFile(t, again); a != b || len(a) < 40 {
		t.Fatalf("hub host twice: %q and %q", a, b)
	}
	// A region with a deployment of its own is not taken over.
	if _, text, err := runCmd("hub", "host", "--data-dir", hubDir, "--region", home, "--out", filepath.Join(dir, "x.key")); err == nil ||
		!strings.Contains(text+err.Error(), "own deployment") {
		t.Fatalf("hub host of an enrolled deployment: %v\n%s", err, text)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.key")); err == nil {
		t.Fatal("a refused hub host wrote a key")
	}

	_, hubURL := startProc(t, "hub", "--addr", "127.0.0.1:0", "--data-dir", hubDir)
	node := func(region, dataDir string, extra ...string) (*servertest.Client, *proc) {
		addr := freeAddr(t)
		c, url := startProc(t, append([]string{"serve", "--addr", addr, "--public-url", "http://" + addr, "--region", region,
			"--data-dir", dataDir, "--admin-password", servertest.AdminPassword, "--hub", hubURL, "--hub-key", hubPEM,
			"--hub-pull", "1s", "--hub-deadline", "2s"}, extra...)...)
		return servertest.NewClient(t, url), c
	}
	homeC, _ := node(home, homeDir)
	p3, _ := node(hosted, p3Dir, "--key-file", p3Key)

	// A resident of the hosted region registers and shows a code there.
	tok, person := p3.Resident("13900000301", "王小郎", residentID("34182119900101123"), "")
	code := p3.Want(p3.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
	// Its own checkpoint verifies it from its own store.
	_, p3Checkpoint := p3.Checkpoint(p3.Admin(), "郎溪卡口", hosted)
	if r := p3.Want(p3.Do("POST", "/api/v1/verify", p3Checkpoint, map[string]any{"code": code}), 200, ""); r.Body["valid"] != true ||
		r.Str("color_source") != "local" {
		t.Fatalf("at home in %s: %s", hosted, r.Raw)
	}

	// A checkpoint of Ningguo verifies it through the hub's bundle, within
	// the pull period, with the hosted node's live colour.
	_, homeKey := homeC.Checkpoint(homeC.Admin(), "宁国卡口", home)
	verify := func() servertest.Response {
		return homeC.Want(homeC.Do("POST", "/api/v1/verify", homeKey, map[string]any{"code": code}), 200, "")
	}
	var r servertest.Response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r = verify(); r.Body["valid"] == true {
			break
		}
	}
	if r.Body["valid"] != true || r.Str("issuer") != hosted || r.Str("color") != "green" || r.Str("color_source") != "live" {
		t.Fatalf("the hosted region's code at Ningguo: %s", r.Raw)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(run("hub", "list", "--data-dir", hubDir), "\n") {
		if region, rest, ok := strings.Cut(l, "  "); ok {
			lines[region] = rest
		}
	}
	if !strings.HasPrefix(lines[hosted], "uploaded") || !strings.HasSuffix(lines[hosted], "hosted by this hub") ||
		!strings.HasPrefix(lines[home], "uploaded") || strings.Contains(lines[home], "hosted") {
		t.Fatalf("hub list: %q", lines)
	}

	// The hosted region's operators make the resident red; Ningguo sees it
	// at the next scan.
	p3.Want(p3.Do("POST", "/api/v1/admin/facts", p3.Admin(), map[string]any{"person_id": person, "kind": "contact.close",
		"at": time.Now().Add(-time.Hour).Format(time.RFC3339)}), 201, "")
	if r := verify(); r.Str("color") != "red" || r.Str("color_source") != "live" || r.Body["admitted"] != false {
		t.Fatalf("after the hosted region made its resident red: %s", r.Raw)
	}
	// Ningguo's overview lists the hosted region with its code keys.
	ov := homeC.Want(homeC.Do("GET", "/api/v1/admin/federation", homeC.Admin(), nil), 200, "")
	if !strings.Contains(string(ov.Raw), `"`+hosted+`"`) {
		t.Fatalf("Ningguo's federation overview lacks %s: %s", hosted, ov.Raw)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
