package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
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

type readiness struct {
	Status string `json:"status"`
	Node   string `json:"node"`
}

func readyz(t *testing.T, c *servertest.Client) (int, readiness) {
	t.Helper()
	res, body := c.Get("/readyz")
	var r readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("readyz: %d %q is not JSON: %v", res.StatusCode, body, err)
	}
	return res.StatusCode, r
}

// A balancer sends requests to a node whose /readyz answers 200: its store
// answers and its caches are loaded. It names the node.
func TestReadyzSaysWhetherToSendRequests(t *testing.T) {
	t.Parallel()
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		code, r := readyz(t, s.Client)
		if code != 200 || r.Status != "ready" || r.Node != s.App.Leases.Node() {
			t.Fatalf("readyz of a running node: %d %+v, want 200 ready on %s", code, r, s.App.Leases.Node())
		}
	}, servertest.WithWorkers())
	t.Run("store unreachable", func(t *testing.T) {
		t.Parallel()
		s := servertest.Start(t, db.SQLite)
		s.App.DB.Close()
		if code, r := readyz(t, s.Client); code != 503 || r.Status != "database unavailable" {
			t.Fatalf("readyz with the store closed: %d %+v, want 503 database unavailable", code, r)
		}
		// The process is alive all the same: a liveness probe must not
		// have it restarted for the store's outage.
		if res, body := s.Client.Get("/healthz"); res.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
			t.Fatalf("healthz with the store closed: %d %s, want 200 ok", res.StatusCode, body)
		}
	})
}

// TestSIGTERMDrainsAndLosesNothing: a serve process under steady check-ins
// gets SIGTERM. /readyz turns 503 at once while check-ins are still
// answered; the clients stop sending a second after the first 503, as a
// balancer checking readiness would; a check-in whose body is still arriving
// when the drain ends is waited for; the node exits cleanly, no request
// fails, and every check-in it answered is in the database.
func TestSIGTERMDrainsAndLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("process test: skipped under -short")
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
			const drain = 3 * time.Second
			p := startBinary(t, bin, []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data-dir", dir,
				"--otp-interval", "-1s", "--otp-per-day", "-1", "--otp-per-address", "-1", "--log-level", "error",
				"--drain", drain.String()})
			e := servertest.NewClient(t, p.url)
			if code, r := readyz(t, e); code != 200 || r.Status != "ready" {
				t.Fatalf("readyz before SIGTERM: %d %+v", code, r)
			}
			admin := e.Admin()
			venueID, token := e.Venue(admin, "西津菜市场", "market", "341881003")
			const residents = 8
			toks, pids := make([]string, residents), make([]string, residents)
			for i := range residents {
				toks[i], pids[i] = e.Resident(fmt.Sprintf("1360000%04d", i), "郑"+string(rune('甲'+i))+"丙", rid("19910101", 300+i), "341881003")
			}

			type ack struct {
				who int
				at  time.Time
			}
			var (
				mu           sync.Mutex
				acked        []ack
				failed       []string
				drainingSeen atomic.Int64 // unix ns of the first 503 "draining"
				afterDrain   atomic.Int64 // check-ins answered once /readyz said draining
				removed      atomic.Bool  // the balancer sends the node nothing new
				wg           sync.WaitGroup
			)
			client := &http.Client{Timeout: 30 * time.Second}
			for who := range residents {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !removed.Load() {
						req, _ := http.NewRequest("POST", p.url+"/api/v1/checkins", strings.NewReader(`{"venue_token":"`+token+`"}`))
						req.Header.Set("Authorization", "Bearer "+toks[who])
						req.Header.Set("Content-Type", "application/json")
						res, err := client.Do(req)
						if err != nil {
							mu.Lock()
							failed = append(failed, err.Error())
							mu.Unlock()
							return
						}
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						var a struct {
							CheckedInAt time.Time `json:"checked_in_at"`
						}
						if res.StatusCode != 201 || json.Unmarshal(body, &a) != nil {
							mu.Lock()
							failed = append(failed, fmt.Sprintf("%d %s", res.StatusCode, body))
							mu.Unlock()
							continue
						}
						if drainingSeen.Load() != 0 {
							afterDrain.Add(1)
						}
						mu.Lock()
						acked = append(acked, ack{who, a.CheckedInAt})
						mu.Unlock()
					}
				}()
			}
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 100 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			// One more resident's check-in is still sending its body when
			// the drain ends: the shutdown waits for it.
			slowTok, slowPID := e.Resident("13600009999", "郑慢丙", rid("19910101", 399), "341881003")
			var signalled time.Time
			body, send := io.Pipe()
			slow := make(chan error, 1)
			var slowAt time.Time
			go func() {
				req, _ := http.NewRequest("POST", p.url+"/api/v1/checkins", body)
				req.Header.Set("Authorization", "Bearer "+slowTok)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					slow <- err
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				var a struct {
					CheckedInAt time.Time `json:"checked_in_at"`
				}
				if res.StatusCode != 201 || json.Unmarshal(b, &a) != nil {
					slow <- fmt.Errorf("%d %s", res.StatusCode, b)
					return
				}
				slowAt = a.CheckedInAt
				slow <- nil
			}()
			if _, err := send.Write([]byte(`{"venue_token":`)); err != nil {
				t.Fatal(err)
			}
			signalled = time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			go func() {
				time.Sleep(drain + time.Second)
				send.Write([]byte(`"` + token + `"}`))
				send.Close()
			}()
			for drainingSeen.Load() == 0 && time.Since(signalled) < drain {
				res, err := client.Get(p.url + "/readyz")
				if err != nil {
					t.Fatalf("readyz during the drain: %v", err)
				}
				var r readiness
				json.NewDecoder(res.Body).Decode(&r)
				res.Body.Close()
				switch {
				case res.StatusCode == 503 && r.Status == "draining":
					drainingSeen.Store(time.Now().UnixNano())
				case res.StatusCode != 200:
					t.Fatalf("readyz during the drain: %d %+v", res.StatusCode, r)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if drainingSeen.Load() == 0 {
				t.Fatalf("readyz did not answer 503 draining within the %s drain", drain)
			}
			time.Sleep(time.Second)
			removed.Store(true)
			select {
			case err := <-p.exited:
				if err != nil {
					t.Fatalf("serve did not stop cleanly on SIGTERM: %v\n%s", err, p.log())
				}
			case <-time.After(drain + 30*time.Second):
				t.Fatalf("serve did not stop after SIGTERM\n%s", p.log())
			}
			stopped := time.Since(signalled)
			wg.Wait()
			if err := <-slow; err != nil {
				t.Fatalf("the check-in in flight when the drain ended: %v", err)
			}
			acked = append(acked, ack{residents, slowAt})
			pids = append(pids, slowPID)
			if len(failed) > 0 {
				t.Fatalf("%d requests failed around the shutdown, e.g. %s", len(failed), failed[0])
			}
			if afterDrain.Load() == 0 {
				t.Fatal("no check-in was answered once /readyz said draining: the node did not keep serving")
			}
			if stopped < drain {
				t.Fatalf("the node stopped %s after SIGTERM, before its %s drain ended", stopped, drain)
			}

			d, err := db.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var place int64
			if err := d.QueryRowContext(context.Background(), `SELECT num FROM places WHERE kind = 'venue' AND ref = $1`, venueID).Scan(&place); err != nil {
				t.Fatal(err)
			}
			nums := make([]int64, len(pids))
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
				if n == 0 {
					lost++
				}
			}
			if lost > 0 {
				t.Fatalf("%d of %d answered check-ins are not in the database after the shutdown", lost, len(acked))
			}
			t.Logf("%s: %d check-ins answered, %d of them after /readyz said draining (%.0f ms after SIGTERM); stopped after %s; none missing",
				engine, len(acked), afterDrain.Load(), float64(drainingSeen.Load()-signalled.UnixNano())/1e6, stopped.Round(time.Millisecond))
		})
	}
}
