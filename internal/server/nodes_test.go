package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// cluster is several `serve` processes of the real binary on one throwaway
// PostgreSQL, as a province runs them behind a balancer.
type cluster struct {
	t     *testing.T
	dsn   string
	nodes []*proc
	names []string
	db    *db.DB
}

// startCluster starts n nodes one after the other (the first migrates) with
// one master key and the given lease lifetime, and extra flags each.
func startCluster(t *testing.T, n int, ttl time.Duration, extra ...string) *cluster {
	t.Helper()
	bin := buildHealthcode(t)
	c := &cluster{t: t, dsn: dbtest.PostgresURL(t)}
	key := make([]byte, 32)
	rand.Read(key)
	env := "HEALTHCODE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)
	for i := range n {
		name := fmt.Sprintf("node%d", i+1)
		args := []string{"serve", "--addr", "127.0.0.1:0", "--db", c.dsn, "--data-dir", filepath.Join(t.TempDir(), name),
			"--node", name, "--lease-ttl", ttl.String(), "--admin-password", servertest.AdminPassword,
			"--otp-interval", "-1s", "--otp-per-day", "-1", "--otp-per-address", "-1", "--otp-per-minute", "-1", "--sms-budget", "-1",
			"--log-level", "error"}
		c.nodes = append(c.nodes, startBinary(t, bin, append(args, extra...), env))
		c.names = append(c.names, name)
	}
	d, err := db.Open(context.Background(), c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c.db = d
	return c
}

// holders are the live leases and their nodes.
func (c *cluster) holders() map[string]string {
	c.t.Helper()
	out := map[string]string{}
	err := db.Each(context.Background(), c.db, `SELECT name, holder FROM leases WHERE expires_at > $1`, []any{time.Now().UnixMilli()},
		func(sc db.Scanner) error {
			var name, holder string
			if err := sc.Scan(&name, &holder); err != nil {
				return err
			}
			out[name] = holder
			return nil
		})
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// stop ends every node still running with SIGTERM and waits for it.
func (c *cluster) stop() {
	c.t.Helper()
	for i, p := range c.nodes {
		if p.cmd.ProcessState != nil {
			continue
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.exited:
			if err != nil {
				c.t.Errorf("%s did not stop cleanly: %v\n%s", c.names[i], err, p.log())
			}
		case <-time.After(30 * time.Second):
			c.t.Errorf("%s did not stop in 30 s", c.names[i])
		}
	}
}

// TestLeaseMovesWhenItsNodeIsKilled: two nodes on one PostgreSQL share the
// once-only work; the node that holds the scheduler's lease is killed
// (SIGKILL: nothing released) and the other takes over every lease it held
// within the lease's lifetime (plus one try).
func TestLeaseMovesWhenItsNodeIsKilled(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("skipped under -short: runs two nodes and waits for a lease to expire")
	}
	const ttl = 2 * time.Second
	c := startCluster(t, 2, ttl)
	var held map[string]string
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		held = c.holders()
		if held["status scheduler"] != "" && held["status notifications"] != "" && held["retention purge"] != "" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the once-only work has no holder after 20 s: %v", held)
		}
	}
	victim := slices.Index(c.names, held["status scheduler"])
	survivor := 1 - victim
	var moving []string
	for name, node := range held {
		if node == c.names[victim] {
			moving = append(moving, name)
		}
	}
	if err := c.nodes[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.nodes[victim].exited
	died := time.Now()
	for {
		now := c.holders()
		left := 0
		for _, name := range moving {
			if now[name] != c.names[survivor] {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Since(died) > 3*ttl {
			t.Fatalf("%d of %d leases of the killed node not taken over after %v: %v", left, len(moving), 3*ttl, now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(died)
	t.Logf("%d leases moved from %s to %s %v after SIGKILL (lease %v)", len(moving), c.names[victim], c.names[survivor], took, ttl)
	if took > ttl+ttl/10+500*time.Millisecond {
		t.Errorf("takeover took %v; want within the lease's %v plus one try", took, ttl)
	}
	res, err := http.Get(c.nodes[survivor].url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `healthcode_lease_held_ratio{lease="status scheduler"} 1`) {
		t.Errorf("the survivor does not say it runs the scheduler:\n%s", grepLines(string(body), "healthcode_lease_held_ratio"))
	}
	c.stop()
	if h := c.holders(); len(h) != 0 {
		t.Errorf("leases still held after every node stopped cleanly: %v", h)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestActivationRecomputesOnceAcrossNodes: with two nodes running their
// workers on one store, activating a rule set recomputes each person once
// (one job, one colour change each), not once per node.
func TestActivationRecomputesOnceAcrossNodes(t *testing.T) {
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		a := &env{Server: s, t: t}
		b := &env{Server: s.Another(t, servertest.WithWorkers()), t: t}
		admin := a.Admin()
		const persons = 24
		now := time.Now()
		for i := range persons {
			id := a.person(admin, fmt.Sprintf("测试%d", i), rid("19800101", 300+i), "341881001")
			a.Want(a.fact(admin, id, "pharmacy.purchase", now.Add(-time.Hour), map[string]any{"drug_class": "cough"}), 201, "")
		}
		before := a.Count("status_changes")
		jobs := a.Count("recompute_jobs")
		v := a.Want(a.Do("POST", "/api/v1/admin/rules", admin, watchedDrugOff(t)), 201, "")
		a.Want(a.Do("POST", "/api/v1/admin/rules/"+fmt.Sprint(v.Body["version"])+"/activate", admin, nil), 202, "")
		var prog map[string]any
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			prog = b.Want(b.Do("GET", "/api/v1/admin/rules/recompute", admin, nil), 200, "").Body["recompute"].(map[string]any)
			if prog["state"] == "done" {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("recompute not done after 30 s: %v", prog)
			}
		}
		if prog["done"] != float64(persons) || prog["changed"] != float64(persons) {
			t.Fatalf("recompute: %v; want %d persons done and changed", prog, persons)
		}
		if n := a.Count("recompute_jobs") - jobs; n != 1 {
			t.Errorf("%d recompute jobs for one activation", n)
		}
		if n := a.Count("status_changes") - before; n != persons {
			t.Errorf("%d colour changes recorded for %d persons", n, persons)
		}
		covered := 0.0
		for _, n := range []*env{a, b} {
			covered += metricstest.Value(t, n.App.Registry().(prometheus.Gatherer), "healthcode_status_recompute_persons_total")
		}
		if covered != persons {
			t.Errorf("the nodes recomputed %v persons between them; want each of the %d once", covered, persons)
		}
	}, servertest.WithWorkers())
}

// TestColourChangesReachEveryNode: three nodes on one PostgreSQL; colour
// changes made on each node in turn show in every node's answers within a
// second (each node's cache follows the change log).
func TestColourChangesReachEveryNode(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("skipped under -short: runs three nodes")
	}
	c := startCluster(t, 3, 15*time.Second)
	defer c.stop()
	e := servertest.NewClient(t, c.nodes[0].url)
	admin := e.Admin()
	const changes = 45
	n := len(c.nodes)
	toks, ids := make([]string, changes), make([]string, changes)
	for i := range toks {
		toks[i], ids[i] = e.Resident(fmt.Sprintf("1360000%04d", i), "周"+string(rune('甲'+i%10))+"丙", rid("19850101", 400+i), "341881001")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	colour := func(node, who int) (string, error) {
		req, _ := http.NewRequest("GET", c.nodes[node].url+"/api/v1/me/code", nil)
		req.Header.Set("Authorization", "Bearer "+toks[who])
		res, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var b struct{ Color string }
		if res.StatusCode != 200 {
			return "", fmt.Errorf("GET /me/code on node %d: %d", node, res.StatusCode)
		}
		err = json.NewDecoder(res.Body).Decode(&b)
		return b.Color, err
	}
	// Every node knows everyone green first (and has their sessions).
	for who := range toks {
		for node := range n {
			if col, err := colour(node, who); err != nil || col != "green" {
				t.Fatalf("resident %d on node %d: %q, %v", who, node, col, err)
			}
		}
	}
	// One change at a time, made on each node in turn; the three nodes are
	// polled every 20 ms meanwhile (polling harder would load the two cores
	// the nodes share more than the changes do).
	var (
		mu       sync.Mutex
		delays   []time.Duration
		failures []string
		wg       sync.WaitGroup
	)
	for who := range toks {
		origin := who % n
		body := fmt.Sprintf(`{"person_id":%q,"kind":"clinic.fever","at":%q,"attrs":{"clinic":"宁国市人民医院"}}`,
			ids[who], time.Now().Add(-time.Minute).Format(time.RFC3339))
		req, _ := http.NewRequest("POST", c.nodes[origin].url+"/api/v1/admin/facts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// The change committed before the answer was sent: the delay counts
		// from the answer to the first answer of a node that shows it.
		committed := time.Now()
		if res.StatusCode != 201 {
			t.Fatalf("fact on node %d: %d", origin, res.StatusCode)
		}
		for node := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(committed) < 5*time.Second {
					col, err := colour(node, who)
					if err == nil && col != "green" {
						mu.Lock()
						delays = append(delays, time.Since(committed))
						mu.Unlock()
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				mu.Lock()
				failures = append(failures, fmt.Sprintf("change of resident %d (made on node %d) not seen by node %d in 5 s", who, origin, node))
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	if len(failures) > 0 {
		t.Fatalf("%d failures: %v", len(failures), failures)
	}
	slices.Sort(delays)
	q := func(p float64) time.Duration { return delays[int(p*float64(len(delays)-1))] }
	t.Logf("%d changes seen on %d nodes (%d observations; from the change's answer to a node's first answer showing it, polled every 20 ms): p50 %v, p99 %v, max %v",
		changes, n, len(delays), q(0.5).Round(time.Millisecond), q(0.99).Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond))
	if max := delays[len(delays)-1]; max > time.Second {
		t.Errorf("a colour change took %v to reach a node; want within 1 s", max)
	}
}

// TestKilledNodeLosesNoAcknowledgedWrite: three nodes under check-in and
// verification load on one PostgreSQL; one is killed with SIGKILL in the
// middle. The other two keep answering, and every check-in and
// verification any node answered 2xx, the killed one's included, is in the
// database.
func TestKilledNodeLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kill test: skipped under -short")
	}
	c := startCluster(t, 3, 15*time.Second)
	defer c.stop()
	e := servertest.NewClient(t, c.nodes[0].url)
	admin := e.Admin()
	const perNode = 4
	type worker struct {
		node                int
		token, person       string
		venueID, venueToken string
		cpID, cpKey         string
		checkins            map[int64]bool // distinct answered check-in times (ms): one row each
		verifies            int
		afterKill, errors5x int
	}
	var ws []*worker
	for node := range c.nodes {
		for i := range perNode {
			k := node*perNode + i
			w := &worker{node: node, checkins: map[int64]bool{}}
			w.token, w.person = e.Resident(fmt.Sprintf("1350000%04d", k), "吴"+string(rune('甲'+k))+"丁", rid("19870101", 500+k), "341881002")
			w.venueID, w.venueToken = e.Venue(admin, fmt.Sprintf("港口菜市场%d", k), "market", "341881002")
			w.cpID, w.cpKey = e.Checkpoint(admin, fmt.Sprintf("宁国东站%d", k), "341881002")
			ws = append(ws, w)
		}
	}
	const victim = 1
	var stop, killed atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(url, token, body string) (int, []byte, error) {
		var rd io.Reader
		method := "GET"
		if body != "" {
			rd, method = strings.NewReader(body), "POST"
		}
		req, _ := http.NewRequest(method, url, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := c.nodes[w.node].url + "/api/v1"
			for !stop.Load() {
				after := killed.Load()
				st, body, err := post(base+"/checkins", w.token, `{"venue_token":"`+w.venueToken+`"}`)
				if err != nil {
					continue // the killed node: never answered
				}
				if st/100 == 5 {
					w.errors5x++
				}
				if st == 201 {
					var a struct {
						CheckedInAt time.Time `json:"checked_in_at"`
					}
					if json.Unmarshal(body, &a) == nil {
						w.checkins[a.CheckedInAt.UnixMilli()] = true
						if after {
							w.afterKill++
						}
					}
				}
				st, body, err = post(base+"/me/code", w.token, "")
				if err != nil || st != 200 {
					continue
				}
				var code struct{ Code string }
				if json.Unmarshal(body, &code) != nil {
					continue
				}
				vb, _ := json.Marshal(map[string]string{"code": code.Code})
				st, _, err = post(base+"/verify", w.cpKey, string(vb))
				if err != nil {
					continue
				}
				if st/100 == 5 {
					w.errors5x++
				}
				if st == 200 {
					w.verifies++
					if after {
						w.afterKill++
					}
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	if err := c.nodes[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.nodes[victim].exited
	killed.Store(true)
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()

	ctx := context.Background()
	place := func(kind, ref string) int64 {
		var n int64
		if err := c.db.QueryRowContext(ctx, `SELECT num FROM places WHERE kind = $1 AND ref = $2`, kind, ref).Scan(&n); err != nil {
			t.Fatalf("place %s %s: %v", kind, ref, err)
		}
		return n
	}
	var ackedIn, ackedVer, victimIn, victimVer, lostIn, lostVer int
	for _, w := range ws {
		if w.errors5x > 0 {
			t.Errorf("node %d answered %d 5xx", w.node+1, w.errors5x)
		}
		if w.node != victim && w.afterKill == 0 {
			t.Errorf("node %d answered nothing after node %d was killed", w.node+1, victim+1)
		}
		venue, cp := place("venue", w.venueID), place("checkpoint", w.cpID)
		num := personNum(t, c.db, w.person)
		for at := range w.checkins {
			var n int
			if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE place = $1 AND person = $2 AND at = $3`,
				venue, num, at).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				lostIn++
			}
		}
		var stored int
		if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM verifications WHERE place = $1`, cp).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored < w.verifies {
			lostVer += w.verifies - stored
		}
		ackedIn += len(w.checkins)
		ackedVer += w.verifies
		if w.node == victim {
			victimIn += len(w.checkins)
			victimVer += w.verifies
		}
	}
	t.Logf("answered: %d check-ins and %d verifications (the killed node: %d and %d); missing: %d and %d",
		ackedIn, ackedVer, victimIn, victimVer, lostIn, lostVer)
	if victimIn == 0 || victimVer == 0 {
		t.Fatalf("the killed node answered %d check-ins and %d verifications before the kill: the test proves nothing", victimIn, victimVer)
	}
	if lostIn > 0 || lostVer > 0 {
		t.Errorf("%d answered check-ins and %d answered verifications are not in the database", lostIn, lostVer)
	}
}
