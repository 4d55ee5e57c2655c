package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/idnum"
)

// population is what the load generator registers before measuring, the
// way phones and operators do it through the API.
type population struct {
	admin     string   // operator session
	residents []string // resident session tokens, each with a registered person
	keys      []string // checkpoint API keys (scope verify)
	orgKeys   []string // an organisation's API keys (scope scan)
	venues    []string // venue tokens
}

var otpRe = regexp.MustCompile(`\d{6}`)

// setup logs the operator in, creates the checkpoints and venues and
// registers the residents, cfg.Concurrency at a time.
func setup(ctx context.Context, a *api, cfg *Config, withVenues, withOrg bool) (*population, error) {
	p := &population{}
	var login struct {
		Token string `json:"token"`
	}
	if err := a.call(ctx, "POST", "/auth/operator", "", map[string]string{"username": cfg.AdminUser, "password": cfg.AdminPassword}, &login); err != nil {
		return nil, fmt.Errorf("loadgen: log in as operator %s: %w", cfg.AdminUser, err)
	}
	p.admin = login.Token
	run := rand.Uint32() // names this run's checkpoints, venues and people apart from earlier runs' on the same store
	for i := range cfg.Checkpoints {
		var out struct {
			APIKey string `json:"api_key"`
		}
		in := map[string]any{"name": fmt.Sprintf("压测卡口 %08x-%d", run, i+1), "region": cfg.Region, "address": "loadgen"}
		if err := a.call(ctx, "POST", "/admin/checkpoints", p.admin, in, &out); err != nil {
			return nil, fmt.Errorf("loadgen: create a checkpoint: %w", err)
		}
		p.keys = append(p.keys, out.APIKey)
	}
	if withOrg {
		if err := setupOrg(ctx, a, cfg, p, run); err != nil {
			return nil, err
		}
	}
	if withVenues {
		for i := range cfg.Venues {
			var out struct {
				Token string `json:"venue_token"`
			}
			in := map[string]any{"name": fmt.Sprintf("压测场所 %08x-%d", run, i+1), "kind": "supermarket", "region": cfg.Region}
			if err := a.call(ctx, "POST", "/admin/venues", p.admin, in, &out); err != nil {
				return nil, fmt.Errorf("loadgen: create a venue: %w", err)
			}
			p.venues = append(p.venues, out.Token)
		}
	}
	p.residents = make([]string, cfg.Residents)
	// Residents of another region register at its own node.
	home, homeAdmin, ids := a, p.admin, newIdentities(cfg.Region)
	if cfg.IssuerURL != "" {
		home = &api{base: cfg.IssuerURL + "/api/v1", client: a.client}
		if err := home.call(ctx, "POST", "/auth/operator", "", map[string]string{"username": cfg.AdminUser, "password": cfg.IssuerAdminPassword}, &login); err != nil {
			return nil, fmt.Errorf("loadgen: log in at the issuing region's node as %s: %w", cfg.AdminUser, err)
		}
		homeAdmin, ids = login.Token, newIdentities(cfg.IssuerRegion)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Concurrency)
	for range min(cfg.Concurrency, cfg.Residents) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Residents || ctx.Err() != nil {
					return
				}
				tok, _, err := registerResident(ctx, home, homeAdmin, ids, nil)
				if err != nil {
					errs <- fmt.Errorf("loadgen: register resident %d: %w", i+1, err)
					next.Store(int64(cfg.Residents)) // stop the others
					return
				}
				p.residents[i] = tok
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return p, nil
}

// setupOrg registers an organisation of the gateway (a service hall) and
// gives it cfg.Checkpoints keys with the scope scan and limits that a
// load test does not reach.
func setupOrg(ctx context.Context, a *api, cfg *Config, p *population, run uint32) error {
	region := cfg.Region
	if len(region) < 6 {
		region = "341881"
	}
	uscc, err := idnum.BuildUSCC("91", region[:6], fmt.Sprintf("%08X", run))
	if err != nil {
		return fmt.Errorf("loadgen: a credit code for the organisation: %w", err)
	}
	var org struct {
		ID string `json:"id"`
	}
	in := map[string]any{"kind": "service_hall", "name": fmt.Sprintf("压测服务大厅 %08x", run), "uscc": uscc, "region": cfg.Region}
	if err := a.call(ctx, "POST", "/admin/orgs", p.admin, in, &org); err != nil {
		return fmt.Errorf("loadgen: register an organisation: %w", err)
	}
	for i := range cfg.Checkpoints {
		var out struct {
			APIKey string `json:"api_key"`
		}
		in := map[string]any{"name": fmt.Sprintf("压测窗口 %d", i+1), "scopes": []string{"scan"},
			"daily_quota": 100_000_000, "rate_per_minute": 1_000_000}
		if err := a.call(ctx, "POST", "/admin/orgs/"+org.ID+"/keys", p.admin, in, &out); err != nil {
			return fmt.Errorf("loadgen: give the organisation a key: %w", err)
		}
		p.orgKeys = append(p.orgKeys, out.APIKey)
	}
	return nil
}

// registerResident does what a phone does: asks for a one-time code, logs
// in with it (read from the outbox, as an operator) and registers a person.
// A phone or identity number that an earlier run on the same store took is
// replaced by another; retries says how many were. took, when not nil,
// receives how long each step of the last attempt took.
func registerResident(ctx context.Context, a *api, admin string, ids *identities, took *stepTimes) (token string, retries int, err error) {
	step := func(i int, t0 time.Time) {
		if took != nil {
			took[i] = time.Since(t0)
		}
	}
	for attempt := 0; attempt < 5; attempt++ {
		phone, name, id := ids.next()
		t0 := time.Now()
		if err := a.call(ctx, "POST", "/auth/otp", "", map[string]string{"phone": phone}, nil); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == 429 {
				return "", attempt, fmt.Errorf("%w (start the server with --otp-interval -1s --otp-per-day -1 --otp-per-address -1 --otp-per-minute -1 --sms-budget -1 for a load test)", err)
			}
			return "", attempt, err
		}
		step(stepOTP, t0)
		var box struct {
			Messages []struct {
				Body string `json:"body"`
			} `json:"messages"`
		}
		t0 = time.Now()
		if err := a.call(ctx, "GET", "/admin/outbox?limit=1&to="+phone, admin, nil, &box); err != nil {
			return "", attempt, err
		}
		step(stepOutbox, t0)
		if len(box.Messages) == 0 {
			return "", attempt, fmt.Errorf("no one-time code for %s in the outbox", phone)
		}
		otp := otpRe.FindString(box.Messages[0].Body)
		var login struct {
			Token      string `json:"token"`
			Registered bool   `json:"registered"`
		}
		t0 = time.Now()
		if err := a.call(ctx, "POST", "/auth/login", "", map[string]string{"phone": phone, "otp": otp}, &login); err != nil {
			return "", attempt, err
		}
		step(stepLogin, t0)
		if login.Registered {
			continue // a phone of an earlier run: take another
		}
		t0 = time.Now()
		err := a.call(ctx, "POST", "/me/register", login.Token, map[string]string{"name": name, "id_type": "resident_id", "id_number": id}, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.errorCode() == "person_exists" {
			continue
		}
		if err != nil {
			return "", attempt, err
		}
		step(stepRegister, t0)
		return login.Token, attempt, nil
	}
	return "", 5, errors.New("five phones or identity numbers in a row were taken by earlier runs")
}

// identities hands out distinct phones, names and resident identity
// numbers (GB 11643, valid check character), starting at a random point so
// that runs against the same store rarely collide.
type identities struct {
	mu     sync.Mutex
	region string
	phone  uint64
	day    int
	seq    int
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")

func newIdentities(region string) *identities {
	if len(region) < 6 {
		region = "341881"
	}
	return &identities{region: region[:6], phone: 10_000_000 + rand.Uint64N(89_000_000), day: rand.IntN(18_000), seq: rand.IntN(1000)}
}

func (g *identities) next() (phone, name, id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.phone++
	g.seq++
	if g.seq == 1000 {
		g.seq, g.day = 0, g.day+1
	}
	phone = fmt.Sprintf("199%08d", g.phone%100_000_000)
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.day%20_000)
	first17 := fmt.Sprintf("%s%s%03d", g.region, birth.Format("20060102"), g.seq)
	c, _ := idnum.ResidentCheckChar(first17) // digits only: cannot fail
	r := g.phone
	name = string([]rune{surnames[r%uint64(len(surnames))], given[(r/20)%uint64(len(given))], given[(r/500)%uint64(len(given))]})
	return phone, name, first17 + string(c)
}
