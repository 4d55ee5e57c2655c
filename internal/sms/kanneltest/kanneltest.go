// Package kanneltest runs a real Kannel for tests: bearerbox and smsbox
// from the installed package, on loopback ports, with one SMSC of Kannel's
// generic HTTP type whose carrier is a receiver in the test. The carrier
// answers each message, then reports its delivery back into Kannel through
// the SMSC's HTTP port, so that a report travels carrier -> Kannel ->
// product as it does with a real carrier. Every process is stopped when
// the test ends.
//
// Without Kannel the tests skip, except under CI=true, where they fail: CI
// installs it (.ci/run).
package kanneltest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"
)

// Gateway is a running Kannel and its carrier.
type Gateway struct {
	// SendURL is smsbox's sendsms interface; User and Password are its
	// sendsms-user.
	SendURL        string
	User, Password string
	Carrier        *Carrier

	t      testing.TB
	dir    string
	conf   string
	bearer *box
	smsbox *box
	admin  int
}

// findBinary looks for a box in $HEALTHCODE_KANNEL_BIN when it is set,
// else where the Debian package puts it (/usr/sbin) and on the PATH.
func findBinary(name string) (string, error) {
	if dir := os.Getenv("HEALTHCODE_KANNEL_BIN"); dir != "" {
		p := filepath.Join(dir, name)
		_, err := os.Stat(p)
		return p, err
	}
	if p := filepath.Join("/usr/sbin", name); fileExists(p) {
		return p, nil
	}
	return exec.LookPath(name)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Start starts Kannel with a carrier, or skips the test (fails it under
// CI=true) when Kannel is not installed.
func Start(t testing.TB) *Gateway {
	t.Helper()
	for _, b := range []string{"bearerbox", "smsbox"} {
		if _, err := findBinary(b); err != nil {
			msg := fmt.Sprintf("Kannel's %s is not installed (apt-get install kannel): %v", b, err)
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s", msg)
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	ports := freePorts(t, 4)
	admin, boxPort, smscPort, sendsms := ports[0], ports[1], ports[2], ports[3]
	c := newCarrier(t, fmt.Sprintf("http://127.0.0.1:%d/", smscPort))
	g := &Gateway{SendURL: fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", sendsms),
		User: "healthcode", Password: "a sendsms password", Carrier: c,
		t: t, dir: dir, conf: filepath.Join(dir, "kannel.conf"), admin: admin}
	conf := fmt.Sprintf(`group = core
admin-port = %[1]d
admin-interface = 127.0.0.1
admin-password = "%[9]s"
admin-allow-ip = "127.0.0.1"
smsbox-port = %[2]d
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "%[3]s/bearerbox.log"
log-level = 1
store-type = file
store-location = "%[3]s/kannel.store"
dlr-storage = internal

# The carrier: Kannel's generic HTTP SMSC. Messages go to send-url (the
# text as Kannel holds it, %%b: UCS-2 for coding 2, the charset in %%C);
# the carrier answers "OK", and reports delivery to this SMSC's port
# with dlr-mid = Kannel's message id (%%I).
group = smsc
smsc = http
smsc-id = carrier
system-type = generic
port = %[4]d
connect-allow-ip = "127.0.0.1"
send-url = "%[5]ssend?to=%%p&text=%%b&coding=%%c&charset=%%C&mid=%%I"
status-success-regex = "^OK"
status-permfail-regex = "^REJECT"
status-tempfail-regex = "^RETRY"
generic-status-sent = 200
generic-status-error = 400
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = %[2]d
sendsms-port = %[6]d
sendsms-interface = 127.0.0.1
global-sender = "10690000"
log-file = "%[3]s/smsbox.log"
log-level = 1

group = sendsms-user
username = "%[7]s"
password = "%[8]s"
concatenation = true
max-messages = 10

group = sms-service
keyword = default
text = "no service"
catch-all = true
`, admin, boxPort, dir, smscPort, c.URL, sendsms, g.User, g.Password, adminPassword)
	if err := os.WriteFile(g.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	g.Restart()
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("kanneltest: the end of %s:\n%s", f, b)
			}
		}
		g.Stop()
	})
	return g
}

const adminPassword = "an admin password"

// Restart starts bearerbox and smsbox (again, after Stop) and waits until
// smsbox is connected to bearerbox (smsbox opens its sendsms port before
// it connects, and exits when bearerbox is not listening yet).
func (g *Gateway) Restart() {
	g.t.Helper()
	if g.bearer != nil {
		g.t.Fatal("kanneltest: Kannel is running")
	}
	g.bearer = g.start("bearerbox")
	g.smsbox = g.start("smsbox")
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=%s", g.admin, url.QueryEscape(adminPassword))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := http.Get(status); err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if bytes.Contains(body, []byte("smsbox:")) {
				return
			}
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("kanneltest: smsbox did not connect to bearerbox (see %s)", g.dir)
		}
		select {
		case <-g.bearer.done:
			g.t.Fatalf("kanneltest: bearerbox exited (see %s)", filepath.Join(g.dir, "bearerbox.out"))
		case <-g.smsbox.done:
			g.smsbox = g.start("smsbox")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// box is a running bearerbox or smsbox; done is closed when it has exited.
type box struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (g *Gateway) start(name string) *box {
	g.t.Helper()
	bin, _ := findBinary(name)
	cmd := exec.Command(bin, g.conf)
	out, err := os.OpenFile(filepath.Join(g.dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		g.t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	// The boxes die with the test binary, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		g.t.Fatalf("kanneltest: start %s: %v", name, err)
	}
	b := &box{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(b.done) }()
	return b
}

// Stop stops smsbox and bearerbox (Kannel is down until Restart).
func (g *Gateway) Stop() {
	for _, b := range []*box{g.smsbox, g.bearer} {
		if b != nil {
			b.stop()
		}
	}
	g.smsbox, g.bearer = nil, nil
}

// stop asks the box to shut down and kills it if it takes too long.
func (b *box) stop() {
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// Message is what the carrier received: the text decoded from the
// coding Kannel sent it in.
type Message struct {
	To, Text string
	Coding   int
	ID       string // Kannel's message id, which the report names
}

// Carrier plays the carrier behind Kannel's HTTP SMSC.
type Carrier struct {
	URL string // where Kannel sends messages

	t       testing.TB
	addr    string
	smscURL string

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	msgs   []Message
	report int
	got    chan struct{}
}

func newCarrier(t testing.TB, smscURL string) *Carrier {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Carrier{t: t, addr: ln.Addr().String(), smscURL: smscURL, report: 1, got: make(chan struct{}, 1)}
	c.URL = "http://" + c.addr + "/"
	c.serve(ln)
	t.Cleanup(c.Down)
	return c
}

func (c *Carrier) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/send", c.receive)
	c.mu.Lock()
	c.ln, c.srv = ln, &http.Server{Handler: mux}
	srv := c.srv
	c.mu.Unlock()
	go srv.Serve(ln)
}

// Down stops the carrier: Kannel cannot reach it.
func (c *Carrier) Down() {
	c.mu.Lock()
	srv := c.srv
	c.srv, c.ln = nil, nil
	c.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up brings the carrier back on its address.
func (c *Carrier) Up() {
	c.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", c.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("kanneltest: carrier back on %s: %v", c.addr, err)
	}
	c.serve(ln)
}

// SetReport chooses the delivery report the carrier sends for the next
// messages: 1 delivered (the default), 2 not delivered, 0 none.
func (c *Carrier) SetReport(typ int) {
	c.mu.Lock()
	c.report = typ
	c.mu.Unlock()
}

// Messages are those received so far.
func (c *Carrier) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Wait returns the first message to phone, waiting up to timeout.
func (c *Carrier) Wait(phone string, timeout time.Duration) (Message, bool) {
	deadline := time.After(timeout)
	for {
		for _, m := range c.Messages() {
			if m.To == phone {
				return m, true
			}
		}
		select {
		case <-c.got:
		case <-deadline:
			return Message{}, false
		}
	}
}

// receive takes a message from Kannel, answers it and reports its
// delivery.
func (c *Carrier) receive(w http.ResponseWriter, r *http.Request) {
	// The text is raw bytes (UCS-2 for coding 2), which url.Values would
	// not mangle but the query must be read as bytes, not as UTF-8.
	raw, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "REJECT bad query", http.StatusBadRequest)
		return
	}
	coding, _ := strconv.Atoi(raw.Get("coding"))
	text := raw.Get("text")
	if coding == 2 || raw.Get("charset") == "UTF-16BE" {
		text = decodeUCS2([]byte(text))
	}
	m := Message{To: raw.Get("to"), Text: text, Coding: coding, ID: raw.Get("mid")}
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	report := c.report
	c.mu.Unlock()
	select {
	case c.got <- struct{}{}:
	default:
	}
	fmt.Fprintf(w, "OK %s\n", m.ID)
	if report != 0 {
		go c.sendReport(m, report)
	}
}

// sendReport reports a message's delivery to Kannel's SMSC port. Kannel
// files a message for reports once it has the carrier's answer, which may
// be a moment after the carrier sent it: a report it does not know yet is
// sent again.
func (c *Carrier) sendReport(m Message, typ int) {
	q := url.Values{"dlr-mask": {strconv.Itoa(typ)}, "dlr-mid": {m.ID}, "to": {m.To}, "from": {"10690000"}}
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", c.smscURL+"?"+q.Encode(), nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK && !bytes.Contains(body, []byte("Unknown DLR")) {
				cancel()
				return
			}
		}
		cancel()
	}
}

func decodeUCS2(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}
