package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

func TestCheckIn(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		venueID, token := e.Venue(admin, "西津农贸市场", "market", "341881001")
		tok, me := e.Resident("13900000101", "王小明", rid("19800101", 101), "341881001")

		before := time.Now().Add(-time.Second)
		r := e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": token}), 201, "")
		at, err := time.Parse(time.RFC3339Nano, r.Str("checked_in_at"))
		if r.Str("venue_name") != "西津农贸市场" || r.Str("color") != "green" || err != nil || at.Before(before) || at.After(time.Now()) {
			t.Fatalf("check-in answer: %s (%v)", r.Raw, err)
		}
		if n := e.Count("checkins"); n != 1 {
			t.Fatalf("%d check-ins stored, want 1", n)
		}

		// A dependent checks in with the resident (同行人员).
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "王老太", "id_type": "resident_id", "id_number": rid("19400202", 102), "relation": "parent"}), 201, "")
		r = e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": token, "dependents": []string{dep.Str("id")}}), 201, "")
		deps, _ := r.Body["dependents"].([]any)
		if len(deps) != 1 || deps[0].(map[string]any)["masked_name"] != "王*太" || deps[0].(map[string]any)["color"] != "green" {
			t.Fatalf("dependents in answer: %s", r.Raw)
		}
		if n := e.Count("checkins"); n != 3 {
			t.Fatalf("%d check-ins stored, want 3", n)
		}

		// The colour is the status engine's: a fever-clinic visit makes it yellow.
		e.Want(e.Do("POST", "/api/v1/admin/facts", admin, map[string]any{"person_id": me, "kind": "clinic.fever",
			"at": time.Now().Add(-time.Hour).Format(time.RFC3339), "attrs": map[string]any{"clinic": "宁国市人民医院"}}), 201, "")
		r = e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": token}), 201, "")
		if r.Str("color") != "yellow" {
			t.Fatalf("colour %q, want yellow after a fever-clinic visit", r.Str("color"))
		}
		stored := e.Count("checkins")

		// Bad input: a precise 4xx and nothing written.
		other, _ := e.Resident("13900000102", "赵大", rid("19810101", 103), "341881001")
		otherDep := e.Want(e.Do("POST", "/api/v1/me/dependents", other, map[string]any{
			"name": "赵小", "id_type": "resident_id", "id_number": rid("20150101", 104), "relation": "child"}), 201, "")
		unregistered := e.ResidentToken("13900000103")
		for _, c := range []struct {
			token  string
			body   any
			status int
			code   string
		}{
			{"", map[string]any{"venue_token": token}, 401, "unauthenticated"},
			{admin, map[string]any{"venue_token": token}, 403, "resident_only"},
			{unregistered, map[string]any{"venue_token": token}, 404, "not_registered"},
			{tok, map[string]any{"venue_token": "nosuchtokenatall0000"}, 404, "venue_token_unknown"},
			{tok, map[string]any{"venue_token": strings.Repeat("x", 500)}, 404, "venue_token_unknown"},
			{tok, map[string]any{"venue_token": " "}, 400, "venue_token_missing"},
			{tok, map[string]any{}, 400, "venue_token_missing"},
			{tok, map[string]any{"venue_token": token, "dependents": []string{otherDep.Str("id")}}, 404, "dependent_not_found"},
			{tok, map[string]any{"venue_token": token, "dependents": []string{"0000000000000"}}, 404, "dependent_not_found"},
			{tok, map[string]any{"venue_token": token, "dependents": []string{dep.Str("id"), dep.Str("id")}}, 400, "dependent_duplicate"},
			{tok, map[string]any{"venue_token": token, "venue": "x"}, 400, "unknown_field"},
			{tok, `{"venue_token": 7}`, 400, "invalid_field"},
		} {
			e.Want(e.Do("POST", "/api/v1/checkins", c.token, c.body), c.status, c.code)
		}
		if n := e.Count("checkins"); n != stored {
			t.Fatalf("bad check-ins wrote rows: %d, want %d", n, stored)
		}

		// Rotating the token revokes the old one; check-ins made with either
		// stay with the venue.
		rot := e.Want(e.Do("POST", "/api/v1/admin/venues/"+venueID+"/rotate-token", admin, nil), 200, "")
		r = e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": token}), 410, "venue_token_revoked")
		if !strings.Contains(string(r.Raw), "新场所码") {
			t.Fatalf("revoked token message is not helpful: %s", r.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": rot.Str("venue_token")}), 201, "")
		counts := e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts", admin, nil), 200, "")
		if counts.Body["total"] != float64(stored+1) {
			t.Fatalf("counts after rotation: %s, want %d in all", counts.Raw, stored+1)
		}
	})
}

func personNum(t testing.TB, d *db.DB, id string) int64 {
	t.Helper()
	var n int64
	if err := d.QueryRowContext(context.Background(), `SELECT num FROM persons WHERE id = $1`, id).Scan(&n); err != nil {
		t.Fatalf("person %s: %v", id, err)
	}
	return n
}

func TestVenueCountsCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		venueID, token := e.Venue(admin, "南山超市", "supermarket", "341881002")
		otherID, otherToken := e.Venue(admin, "西津饭店", "restaurant", "341881001")
		type who struct{ name, idNumber, phone, id string }
		var people []who
		for i := range 3 {
			p := who{name: []string{"李四光", "周树人", "钱学森"}[i], idNumber: rid("19700101", 110+i), phone: fmt.Sprintf("1390000011%d", i)}
			var tok string
			tok, p.id = e.Resident(p.phone, p.name, p.idNumber, "341881002")
			people = append(people, p)
			e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": token}), 201, "")
			if i == 0 {
				e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": otherToken}), 201, "")
			}
		}

		r := e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts", admin, nil), 200, "")
		hours, _ := r.Body["hours"].([]any)
		if r.Body["total"] != 3.0 || len(hours) < 24 || len(hours) > 25 {
			t.Fatalf("counts: %s", r.Raw)
		}
		var sum float64
		for _, h := range hours {
			m := h.(map[string]any)
			if len(m) != 2 || m["hour"] == nil || m["count"] == nil {
				t.Fatalf("an hour bucket carries more than hour and count: %v", m)
			}
			sum += m["count"].(float64)
		}
		if sum != 3 {
			t.Fatalf("hour buckets add up to %v, want 3", sum)
		}
		for k := range r.Body {
			// refused: the entries a policy turned away, counted by reason.
			if !slices.Contains([]string{"venue_id", "venue_name", "from", "to", "total", "hours", "refused"}, k) {
				t.Fatalf("counts carry an unexpected field %q: %s", k, r.Raw)
			}
		}
		if refused, ok := r.Body["refused"].(map[string]any); !ok || len(refused) != 0 {
			t.Fatalf("a venue without a policy refused someone: %s", r.Raw)
		}
		for _, p := range people {
			for _, secret := range []string{p.name, p.idNumber, p.phone, p.id, p.name[:3], p.idNumber[14:], p.phone[7:]} {
				if strings.Contains(string(r.Raw), secret) {
					t.Fatalf("venue counts reveal %q: %s", secret, r.Raw)
				}
			}
		}
		r = e.Want(e.Do("GET", "/api/v1/admin/venues/"+otherID+"/counts", admin, nil), 200, "")
		if r.Body["total"] != 1.0 {
			t.Fatalf("the other venue's counts: %s", r.Raw)
		}

		// A narrow window, and an empty one.
		now := time.Now()
		q := "?from=" + now.Add(-time.Hour).Format(time.RFC3339) + "&to=" + now.Add(time.Minute).Format(time.RFC3339)
		r = e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts"+strings.ReplaceAll(q, "+", "%2B"), admin, nil), 200, "")
		if r.Body["total"] != 3.0 {
			t.Fatalf("counts of the last hour: %s", r.Raw)
		}
		q = "?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z"
		r = e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts"+q, admin, nil), 200, "")
		if r.Body["total"] != 0.0 || len(r.Body["hours"].([]any)) != 24 {
			t.Fatalf("counts of a past day: %s", r.Raw)
		}

		// Bad ranges, other scopes.
		e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z", admin, nil), 400, "time_range_inverted")
		e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts?from=2020-01-01T00:00:00Z&to=2020-03-01T00:00:00Z", admin, nil), 400, "time_range_too_long")
		e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts?from=yesterday", admin, nil), 400, "from_invalid")
		e.Want(e.Do("GET", "/api/v1/admin/venues/nosuchvenue/counts", admin, nil), 404, "venue_not_found")
		elsewhere := e.NewOperator("xijin", "viewer", "341881001")
		e.Want(e.Do("GET", "/api/v1/admin/venues/"+venueID+"/counts", elsewhere, nil), 404, "venue_not_found")
		e.Want(e.Do("GET", "/api/v1/admin/venues/"+otherID+"/counts", elsewhere, nil), 200, "")
	})
}

// TestCheckinsSurviveKill runs the real binary, fires concurrent check-ins,
// SIGKILLs it in the middle, restarts it, and checks that every check-in
// that was answered is in the database.
func TestCheckinsSurviveKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kill test: skipped under -short")
	}
	bin := buildHealthcode(t)
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dsn := "sqlite:" + filepath.Join(dir, "hc.db")
			if engine == db.Postgres {
				dsn = dbtest.PostgresURL(t)
			}
			args := []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data-dir", dir, "--admin-password", servertest.AdminPassword,
				"--otp-interval", "-1s", "--otp-per-day", "-1", "--otp-per-address", "-1", "--log-level", "error"}
			p := startBinary(t, bin, args)
			e := servertest.NewClient(t, p.url)
			admin := e.Admin()
			venueID, token := e.Venue(admin, "河沥溪菜市场", "market", "341881003")
			// One resident per client, so no two answered check-ins can be the
			// same row (same person, place and millisecond).
			const residents = 16
			toks, pids := make([]string, residents), make([]string, residents)
			for i := range residents {
				toks[i], pids[i] = e.Resident(fmt.Sprintf("1370000%04d", i), "孙"+string(rune('甲'+i))+"乙", rid("19900101", 200+i), "341881003")
			}

			type ack struct {
				who int
				at  time.Time
			}
			var (
				mu    sync.Mutex
				acked []ack
				stop  atomic.Bool
				wg    sync.WaitGroup
			)
			client := &http.Client{Timeout: 10 * time.Second}
			for who := range residents {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						req, _ := http.NewRequest("POST", p.url+"/api/v1/checkins", strings.NewReader(`{"venue_token":"`+token+`"}`))
						req.Header.Set("Authorization", "Bearer "+toks[who])
						req.Header.Set("Content-Type", "application/json")
						res, err := client.Do(req)
						if err != nil {
							continue // killed while in flight: never answered
						}
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != 201 {
							continue
						}
						m := regexp.MustCompile(`"checked_in_at":"([^"]+)"`).FindSubmatch(body)
						at, err := time.Parse(time.RFC3339Nano, string(m[1]))
						if err != nil {
							t.Errorf("answer %s: %v", body, err)
							continue
						}
						mu.Lock()
						acked = append(acked, ack{who, at})
						mu.Unlock()
					}
				}()
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 400 || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-p.exited
			stop.Store(true)
			wg.Wait()
			if len(acked) < 50 {
				t.Fatalf("only %d check-ins were answered before the kill", len(acked))
			}

			// The restarted server serves on the same store.
			p = startBinary(t, bin, args)
			e = servertest.NewClient(t, p.url)
			e.Want(e.Do("POST", "/api/v1/checkins", toks[0], map[string]any{"venue_token": token}), 201, "")

			d, err := db.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var place int64
			if err := d.QueryRowContext(context.Background(), `SELECT num FROM places WHERE kind = 'venue' AND ref = $1`, venueID).Scan(&place); err != nil {
				t.Fatal(err)
			}
			nums := make([]int64, residents)
			for i, id := range pids {
				nums[i] = personNum(t, d, id)
			}
			lost := 0
			for _, a := range acked {
				var n int
				if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM checkins WHERE place = $1 AND person = $2 AND at = $3`,
					place, nums[a.who], a.at.UnixMilli()).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n < 1 {
					lost++
				}
			}
			if lost > 0 {
				t.Fatalf("%d of %d answered check-ins are missing after SIGKILL", lost, len(acked))
			}
			// The check-in after the restart may still wait in the SQLite
			// journal; a clean stop moves it into the table.
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := <-p.exited; err != nil {
				t.Fatalf("serve did not stop cleanly on SIGTERM: %v\n%s", err, p.log())
			}
			var stored int
			d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM checkins`).Scan(&stored)
			// Two answers to one client can carry the same millisecond, and a
			// person's check-ins at one place in one millisecond are one row;
			// count distinct answers. Stored may exceed them by the batch that
			// committed as the kill landed, before its answers went out.
			distinct := map[ack]bool{}
			for _, a := range acked {
				distinct[ack{a.who, a.at.Truncate(time.Millisecond)}] = true
			}
			if stored < len(distinct)+1 {
				t.Fatalf("%d check-ins stored, fewer than the %d distinct answered (+1 after restart)", stored, len(distinct))
			}
			t.Logf("%s: %d check-ins answered before SIGKILL, all found after restart (%d stored in all)", engine, len(acked), stored)
		})
	}
}

// buildHealthcode builds the real binary once per test run.
func buildHealthcode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "healthcode")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/healthcode/healthcode/cmd/healthcode")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd    *exec.Cmd
	url    string
	exited chan error
	mu     sync.Mutex
	out    strings.Builder
}

func (p *proc) log() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }

// startBinary starts the binary (with env added to the environment) and
// waits until it prints its address.
func startBinary(t *testing.T, bin string, args []string, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), exited: make(chan error, 1)}
	// No drain unless the test asks for one: a node stops at once on SIGTERM.
	p.cmd.Env = append(append(os.Environ(), "HEALTHCODE_ADMIN_PASSWORD="+servertest.AdminPassword, "HEALTHCODE_DRAIN=0"), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{p: p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`running at (http://\S+)`)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
	})
	select {
	case p.url = <-found:
	case err := <-p.exited:
		t.Fatalf("serve exited early: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start in 60 s\n%s", p.log())
	}
	return p
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// BenchmarkCheckinHTTP compares durable check-ins over HTTP (auth, venue
// token, group commit, colour) with a bare net/http handler that answers a
// constant, through the same client and the same number of concurrent
// clients, alternating within each iteration. The target is at least 30%
// of the bare rate (docs/PERFORMANCE.md).
func BenchmarkCheckinHTTP(b *testing.B) {
	const clients, each = 32, 4
	full := servertest.Start(b, db.SQLite)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"venue_name":"x","checked_in_at":"2022-04-01T10:00:00+08:00","color":"green"}`))
	}))
	defer bare.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	call := func(method, url, token, body string) (int, []byte) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out
	}
	_, venueTok := full.Venue(full.Admin(), "基准超市", "supermarket", "341881001")
	tokens := make([]string, clients)
	for i := range clients {
		tokens[i], _ = full.Resident(fmt.Sprintf("1360000%04d", i), "基准"+string(rune('甲'+i)), rid("19900101", 300+i), "")
	}
	round := func(url string, check bool) {
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					code, out := call("POST", url, tokens[c], `{"venue_token":"`+venueTok+`"}`)
					if check && code != 201 {
						b.Errorf("check-in: %d %s", code, out)
					}
				}
			}()
		}
		wg.Wait()
	}
	var tFull, tBare time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if i&1 == 0 {
			round(full.URL+"/api/v1/checkins", true)
			t1 := time.Now()
			round(bare.URL, false)
			tFull += t1.Sub(t0)
			tBare += time.Since(t1)
		} else {
			round(bare.URL, false)
			t1 := time.Now()
			round(full.URL+"/api/v1/checkins", true)
			tBare += t1.Sub(t0)
			tFull += time.Since(t1)
		}
		i++
	}
	n := float64(clients * each * i)
	b.ReportMetric(n/tFull.Seconds(), "checkins/s")
	b.ReportMetric(n/tBare.Seconds(), "bare/s")
	b.ReportMetric(100*tBare.Seconds()/tFull.Seconds(), "%-of-bare")
}
