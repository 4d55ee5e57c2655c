package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// PathAppointments is the appointment opening: every resident asks for a
// place at the same moment.
const PathAppointments = "appointments"

// AppointmentReport is the outcome of an appointment opening: residents
// that registered beforehand all book at once, through the API, places of
// a few slots; each tries another slot when told slot_full, and gives up
// when every slot is full.
type AppointmentReport struct {
	Machine      Machine   `json:"machine"`
	Load         []float64 `json:"load_after"`
	SetupSeconds float64   `json:"setup_seconds"`
	Residents    int       `json:"residents"`
	Places       int       `json:"places"`
	Slots        int       `json:"slots"`
	Concurrency  int       `json:"concurrency"`
	// Requests are every POST /me/appointments; Booked the 201s; Full the
	// 409 slot_full; TurnedAway the residents who found every slot full.
	Requests   int64 `json:"requests"`
	Booked     int64 `json:"booked"`
	Full       int64 `json:"slot_full"`
	TurnedAway int64 `json:"turned_away"`
	Other4xx   int64 `json:"other_4xx"`
	Server5xx  int64 `json:"server_5xx"`
	Transport  int64 `json:"transport_errors"`
	// StoredBooked is what the server says afterwards: the places taken
	// over all slots (capacity - remaining).
	StoredBooked int64    `json:"stored_booked"`
	Seconds      float64  `json:"seconds"`
	PerSecond    float64  `json:"requests_per_second"`
	P50          float64  `json:"p50_ms"`
	P99          float64  `json:"p99_ms"`
	Max          float64  `json:"max_ms"`
	Samples      []string `json:"error_samples,omitempty"`
}

// Exact reports whether the opening booked exactly the places, the
// server agrees, and nothing failed on the server.
func (r *AppointmentReport) Exact() bool {
	return r.Booked == int64(r.Places) && r.StoredBooked == int64(r.Places) && r.Server5xx == 0 && r.Transport == 0
}

// RunAppointments registers cfg.Residents residents (default 10,000 here),
// opens places places (default 1,000) in slots slots of a new site
// tomorrow morning, and lets every resident book at once, cfg.Concurrency
// requests in flight.
func RunAppointments(ctx context.Context, cfg Config, places, slots int) (*AppointmentReport, error) {
	if cfg.Residents <= 0 {
		cfg.Residents = 10000
	}
	cfg.Paths = []string{}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if places <= 0 {
		places = 1000
	}
	if slots <= 0 || slots > places {
		slots = 10
	}
	rep := &AppointmentReport{Machine: machine(), Residents: cfg.Residents, Places: places, Slots: slots, Concurrency: cfg.Concurrency}
	client := &http.Client{Transport: balance(newTransport(cfg.Concurrency), cfg.URL, cfg.Nodes), Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	a := &api{base: cfg.URL + "/api/v1", client: client}
	t0 := time.Now()
	cfg.progress("registering %d residents", cfg.Residents)
	cfg.Checkpoints = 1
	pop, err := setup(ctx, a, &cfg, false, false)
	if err != nil {
		return nil, err
	}
	slotIDs, siteID, err := openSlots(ctx, a, &cfg, pop.admin, places, slots)
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(t0).Seconds()
	cfg.progress("set up in %.0f s; %d residents book %d places in %d slots, %d at a time", rep.SetupSeconds, cfg.Residents, places, slots,
		cfg.Concurrency)

	var mu sync.Mutex
	var lat []time.Duration
	var next int64
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var c AppointmentReport
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if int(i) >= len(pop.residents) || ctx.Err() != nil {
					break
				}
				book(ctx, client, cfg.URL, pop.residents[i], slotIDs, &c, &mine)
			}
			mu.Lock()
			lat = append(lat, mine...)
			rep.Requests += c.Requests
			rep.Booked += c.Booked
			rep.Full += c.Full
			rep.TurnedAway += c.TurnedAway
			rep.Other4xx += c.Other4xx
			rep.Server5xx += c.Server5xx
			rep.Transport += c.Transport
			if len(rep.Samples) < 5 {
				rep.Samples = append(rep.Samples, c.Samples...)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	rep.Seconds = el.Seconds()
	rep.PerSecond = float64(rep.Requests) / el.Seconds()
	sortDurations(lat)
	if len(lat) > 0 {
		rep.P50, rep.P99, rep.Max = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), ms(lat[len(lat)-1])
	}
	var list struct {
		Slots []struct {
			Capacity  int64 `json:"capacity"`
			Remaining int64 `json:"remaining"`
		} `json:"slots"`
	}
	if err := a.call(ctx, "GET", "/vaccination/sites/"+siteID+"/slots?days=2", "", nil, &list); err != nil {
		return nil, err
	}
	for _, s := range list.Slots {
		rep.StoredBooked += s.Capacity - s.Remaining
	}
	rep.Load = loadAvg()
	return rep, nil
}

// openSlots creates a site, a vaccine and the slots of tomorrow morning.
func openSlots(ctx context.Context, a *api, cfg *Config, admin string, places, slots int) ([]string, string, error) {
	run := rand.Uint32()
	var site, vac struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "POST", "/admin/vaccination/sites", admin, map[string]any{"name": fmt.Sprintf("压测接种点 %08x", run),
		"address": "loadgen", "lat": 30.63, "lng": 118.98, "region": cfg.Region}, &site); err != nil {
		return nil, "", fmt.Errorf("loadgen: create a vaccination site: %w", err)
	}
	if err := a.call(ctx, "POST", "/admin/vaccination/vaccines", admin, map[string]any{"name": fmt.Sprintf("压测疫苗 %08x", run),
		"maker": "loadgen", "doses": 2, "interval_days": 21}, &vac); err != nil {
		return nil, "", fmt.Errorf("loadgen: create a vaccine: %w", err)
	}
	cst := time.FixedZone("CST", 8*3600)
	now := time.Now().In(cst)
	day := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, cst)
	var ids []string
	for i := range slots {
		n := places / slots
		if i < places%slots {
			n++
		}
		var sl struct {
			ID string `json:"id"`
		}
		from := day.Add(time.Duration(i) * 30 * time.Minute)
		if err := a.call(ctx, "POST", "/admin/vaccination/slots", admin, map[string]any{"site_id": site.ID, "vaccine_id": vac.ID,
			"starts_at": from, "ends_at": from.Add(30 * time.Minute), "capacity": n}, &sl); err != nil {
			return nil, "", fmt.Errorf("loadgen: open a slot: %w", err)
		}
		ids = append(ids, sl.ID)
	}
	return ids, site.ID, nil
}

// book is one resident trying the slots, from a random one on, until
// booked or every slot has said slot_full.
func book(ctx context.Context, c *http.Client, base, token string, slots []string, r *AppointmentReport, lat *[]time.Duration) {
	first := rand.IntN(len(slots))
	for k := range slots {
		id := slots[(first+k)%len(slots)]
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/me/appointments", strings.NewReader(`{"slot_id":"`+id+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		t := time.Now()
		res, err := c.Do(req)
		r.Requests++
		if err != nil {
			r.Transport++
			r.sample(err.Error())
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		*lat = append(*lat, time.Since(t))
		switch {
		case res.StatusCode == http.StatusCreated:
			r.Booked++
			return
		case res.StatusCode == http.StatusConflict && codeOfError(body) == "slot_full":
			r.Full++
			continue
		case res.StatusCode >= 500:
			r.Server5xx++
		default:
			r.Other4xx++
		}
		r.sample(fmt.Sprintf("%d %s", res.StatusCode, body))
		return
	}
	r.TurnedAway++
}

func (r *AppointmentReport) sample(s string) {
	if len(r.Samples) < 5 {
		r.Samples = append(r.Samples, s)
	}
}

func codeOfError(b []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(b, &e)
	return e.Error.Code
}

// WriteTable prints the report for people.
func (r *AppointmentReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "appointment opening\t%d residents, %d places in %d slots, %d in flight\n", r.Residents, r.Places, r.Slots, r.Concurrency)
	fmt.Fprintf(tw, "requests\t%d in %.1f s (%.0f/s)\n", r.Requests, r.Seconds, r.PerSecond)
	fmt.Fprintf(tw, "booked\t%d (server: %d)\n", r.Booked, r.StoredBooked)
	fmt.Fprintf(tw, "slot_full answers\t%d; turned away %d\n", r.Full, r.TurnedAway)
	fmt.Fprintf(tw, "other 4xx / 5xx / transport\t%d / %d / %d\n", r.Other4xx, r.Server5xx, r.Transport)
	fmt.Fprintf(tw, "latency p50 / p99 / max\t%.1f / %.1f / %.1f ms\n", r.P50, r.P99, r.Max)
	fmt.Fprintf(tw, "exact\t%v\n", r.Exact())
	for _, s := range r.Samples {
		fmt.Fprintf(tw, "sample error\t%s\n", s)
	}
	return tw.Flush()
}

// ErrNotExact is returned by callers that require an exact opening.
var ErrNotExact = errors.New("loadgen: the appointment opening did not book exactly the places, or the server failed")
