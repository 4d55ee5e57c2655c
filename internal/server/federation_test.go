package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// Region A (宣州区) and region B (宁国市) each run their own deployment on
// their own database; the hub runs on a third.
const (
	regionA = "341802"
	regionB = servertest.Region
)

// hubMode makes the real hub slow or unreachable on its status relay, as a
// network between regions can be.
type hubMode struct {
	mode atomic.Int32 // 0 up, 1 slow, 2 down
	h    http.Handler
}

func (m *hubMode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch m.mode.Load() {
	case 1:
		time.Sleep(time.Second)
	case 2:
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	m.h.ServeHTTP(w, r)
}

type fedEnv struct {
	t        *testing.T
	hub      *server.HubServer
	hubURL   string
	mode     *hubMode
	hubPEM   []byte
	a, b     *servertest.Server
	hubClose func()
}

func startHub(t *testing.T) (*server.HubServer, *hubMode, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	h, err := server.NewHub(context.Background(), server.HubConfig{DataDir: dir, DB: "sqlite:" + filepath.Join(dir, "hub.db"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	m := &hubMode{h: h.Handler()}
	hs := httptest.NewServer(m)
	t.Cleanup(hs.Close)
	return h, m, hs
}

// newFedEnv starts the hub and regions A and B (B on PostgreSQL unless
// -short), enrols both, uploads their trust lists and has B pull.
func newFedEnv(t *testing.T) *fedEnv {
	t.Helper()
	h, m, hs := startHub(t)
	e := &fedEnv{t: t, hub: h, hubURL: hs.URL, mode: m, hubPEM: federation.MarshalPublicPEM(h.Hub.PublicKey()), hubClose: hs.Close}
	withHub := func(region string) servertest.Option {
		return servertest.WithConfig(func(c *server.Config) {
			c.Region, c.Hub, c.HubKey, c.HubDeadline = region, hs.URL, e.hubPEM, 300*time.Millisecond
		})
	}
	engineB := db.Postgres
	if testing.Short() {
		engineB = db.SQLite
	}
	e.a = servertest.Start(t, db.SQLite, withHub(regionA))
	e.b = servertest.Start(t, engineB, withHub(regionB))
	for _, s := range []*servertest.Server{e.a, e.b} {
		if err := h.Hub.Enrol(context.Background(), s.App.Config.Region, federation.MarshalPublicPEM(s.App.Federation.PublicKey()), "test"); err != nil {
			t.Fatal(err)
		}
		e.upload(s)
	}
	e.pull(e.b)
	return e
}

func (e *fedEnv) upload(s *servertest.Server) {
	e.t.Helper()
	if err := s.App.Federation.Upload(context.Background(), s.App.CodeKeys.TrustListJSON(), s.App.Codes.RevokedIDs()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *fedEnv) pull(s *servertest.Server) {
	e.t.Helper()
	if err := s.App.Federation.Pull(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func ridIn(region, birth string, seq int) string {
	first17 := fmt.Sprintf("%s%s%03d", region, birth, seq)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// The done-when of the federation: a resident of A is verified at a
// checkpoint of B with A's live colour; a colour change in A shows at B at
// the next scan; with the hub slow or down B answers within its deadline
// with the colour inside the code and says so.
func TestFederationAcrossRegions(t *testing.T) {
	t.Parallel()
	e := newFedEnv(t)
	tok, personA := e.a.Resident("13800000001", "李小明", ridIn(regionA, "19900101", 11), "")
	_, key := e.b.Checkpoint(e.b.Admin(), "宁国卡口", regionB)
	code := e.a.Want(e.a.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")

	verify := func() servertest.Response {
		return e.b.Want(e.b.Do("POST", "/api/v1/verify", key, map[string]any{"code": code}), 200, "")
	}
	r := verify()
	if r.Body["valid"] != true || r.Str("issuer") != regionA || r.Str("color") != "green" || r.Str("color_source") != "live" ||
		r.Body["admitted"] != true {
		t.Fatalf("A's resident at B: %s", r.Raw)
	}

	// A close contact in A: red at once there, and at B's next scan.
	e.a.Want(e.a.Do("POST", "/api/v1/admin/facts", e.a.Admin(), map[string]any{"person_id": personA, "kind": "contact.close",
		"at": time.Now().Add(-time.Hour).Format(time.RFC3339)}), 201, "")
	if r := verify(); r.Str("color") != "red" || r.Str("color_source") != "live" || r.Body["admitted"] != false ||
		!slices.Contains(fedReasons(r), "color_red") {
		t.Fatalf("after A made the person red: %s", r.Raw)
	}

	// A's policy-free colour reads through B's policy: B treats A's red as
	// yellow (an operator's decision, audited).
	e.b.Want(e.b.Do("PUT", "/api/v1/admin/federation/color-policy", e.b.Admin(), map[string]any{
		"foreign_region": regionA, "foreign_color": "red", "local_color": "yellow"}), 200, "")
	if r := verify(); r.Str("color") != "yellow" || r.Str("color_source") != "live" {
		t.Fatalf("under B's policy: %s", r.Raw)
	}
	// Who may change it: a viewer may not; an administrator of one town may not
	// change the city's policy; nothing changes when refused.
	viewer := e.b.NewOperator("viewer1", "viewer", regionB)
	town := e.b.NewOperator("town1", "admin", "341881001")
	e.b.Want(e.b.Do("PUT", "/api/v1/admin/federation/color-policy", viewer, map[string]any{
		"foreign_region": regionA, "foreign_color": "red", "local_color": "green"}), 403, "forbidden")
	e.b.Want(e.b.Do("PUT", "/api/v1/admin/federation/color-policy", town, map[string]any{
		"foreign_region": regionA, "foreign_color": "red", "local_color": "green"}), 403, "out_of_scope")
	e.b.Want(e.b.Do("PUT", "/api/v1/admin/federation/color-policy", e.b.Admin(), map[string]any{
		"foreign_region": "A", "foreign_color": "red", "local_color": "green"}), 400, "region_invalid")
	e.b.Want(e.b.Do("PUT", "/api/v1/admin/federation/color-policy", e.b.Admin(), map[string]any{
		"foreign_region": regionA, "foreign_color": "purple", "local_color": "green"}), 400, "color_invalid")
	ov := e.b.Want(e.b.Do("GET", "/api/v1/admin/federation", viewer, nil), 200, "")
	if pol, _ := ov.Body["policy"].([]any); len(pol) != 1 || pol[0].(map[string]any)["local_color"] != "yellow" {
		t.Fatalf("the policy after refusals: %s", ov.Raw)
	}
	if regs, _ := ov.Body["regions"].([]any); len(regs) != 2 || ov.Body["last_pull"] == nil {
		t.Fatalf("the federation overview: %s", ov.Raw)
	}
	if r := verify(); r.Str("color") != "yellow" {
		t.Fatalf("after refused changes: %s", r.Raw)
	}

	// The hub slow, then down: the code's own colour (green at issue),
	// within the deadline, with the reason.
	for _, mode := range []int32{1, 2} {
		e.mode.mode.Store(mode)
		began := time.Now()
		r := verify()
		if r.Body["valid"] != true || r.Str("color") != "green" || r.Str("color_source") != "code" ||
			!slices.Contains(fedReasons(r), "live_status_unavailable") {
			t.Fatalf("hub mode %d: %s", mode, r.Raw)
		}
		if took := time.Since(began); took > 900*time.Millisecond {
			t.Errorf("hub mode %d: answered in %v, past the 300 ms deadline by far", mode, took)
		}
	}
	e.mode.mode.Store(0)

	// B's metrics count the pulls and the queries, answered and not.
	res, body := e.b.Get("/metrics")
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d", res.StatusCode)
	}
	for _, m := range []struct {
		line string
		min  float64
	}{
		{`healthcode_federation_pulls_total{result="changed"}`, 1},
		{`healthcode_federation_status_queries_total{outcome="answered"}`, 3},
		{`healthcode_federation_status_queries_total{outcome="unavailable"}`, 2},
	} {
		var v float64
		for _, l := range strings.Split(string(body), "\n") {
			if rest, ok := strings.CutPrefix(l, m.line+" "); ok {
				v, _ = strconv.ParseFloat(rest, 64)
			}
		}
		if v < m.min {
			t.Errorf("%s = %v, want at least %v", m.line, v, m.min)
		}
	}
	if !strings.Contains(string(body), "healthcode_federation_bundle_age_seconds ") {
		t.Error("/metrics has no healthcode_federation_bundle_age_seconds")
	}

	// A's own code is still answered by A's own status, never the hub's.
	if r := e.a.Want(e.a.Do("POST", "/api/v1/verify", mustKey(e.a), map[string]any{"code": code}), 200, ""); r.Str("color_source") != "local" ||
		r.Str("color") != "red" {
		t.Fatalf("at home: %s", r.Raw)
	}

	// The hub gone for good: B still recognises A's codes from the bundle it
	// stored, even after a restart.
	e.hubClose()
	b2 := e.b.Another(t)
	if r := b2.Want(b2.Do("POST", "/api/v1/verify", key, map[string]any{"code": code}), 200, ""); r.Body["valid"] != true ||
		r.Str("color_source") != "code" {
		t.Fatalf("restarted with the hub down: %s", r.Raw)
	}
}

func mustKey(s *servertest.Server) string {
	_, key := s.Checkpoint(s.Admin(), "本地卡口", s.App.Config.Region)
	return key
}

func fedReasons(r servertest.Response) []string {
	var out []string
	for _, x := range r.Body["reasons"].([]any) {
		out = append(out, x.(string))
	}
	return out
}

// What the hub refuses: each with a precise reason, nothing stored (the
// bundle's ETag stays).
func TestHubRefusesBadUploads(t *testing.T) {
	t.Parallel()
	h, _, hs := startHub(t)
	ctx := context.Background()
	_, keyA, _ := ed25519.GenerateKey(rand.Reader)
	_, keyB, _ := ed25519.GenerateKey(rand.Reader)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	for region, k := range map[string]ed25519.PrivateKey{regionA: keyA, regionB: keyB} {
		if err := h.Hub.Enrol(ctx, region, federation.MarshalPublicPEM(k.Public().(ed25519.PublicKey)), "test"); err != nil {
			t.Fatal(err)
		}
	}
	pkg := func(region string, seq int64, at time.Time) []byte {
		return mustJSONT(t, federation.Package{Region: region, Seq: seq, IssuedAt: at, StatusURL: "http://127.0.0.1:1/federation/v1/status",
			TrustList: json.RawMessage(`{"keys":[]}`), Revoked: []string{}})
	}
	now := time.Now().UTC()
	good := mustJSONT(t, federation.Sign(keyA, regionA, federation.PurposePackage, pkg(regionA, 10, now)))
	post := func(body []byte) (int, string) {
		resp, err := http.Post(hs.URL+federation.PathTrustList, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Error struct{ Code string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Error.Code
	}
	if st, code := post(good); st != 204 {
		t.Fatalf("a good upload: %d %s", st, code)
	}
	_, etag := h.Hub.Bundle()
	unsigned := mustJSONT(t, federation.Signed{Signer: regionA, Body: pkg(regionA, 11, now)})
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"not json", []byte(`{"signer":`), 400, "federation_malformed"},
		{"empty", []byte(``), 400, "empty_body"},
		{"unsigned", unsigned, 401, "federation_unsigned"},
		{"signed by a stranger", mustJSONT(t, federation.Sign(stranger, regionA, federation.PurposePackage, pkg(regionA, 12, now))), 401, "federation_bad_signature"},
		{"a signature for another purpose", mustJSONT(t, federation.Sign(keyA, regionA, federation.PurposeStatusAnswer, pkg(regionA, 12, now))), 401, "federation_bad_signature"},
		{"B uploading for A", mustJSONT(t, federation.Sign(keyB, regionB, federation.PurposePackage, pkg(regionA, 12, now))), 403, "not_region_owner"},
		{"a region not enrolled", mustJSONT(t, federation.Sign(keyA, "110101", federation.PurposePackage, pkg("110101", 12, now))), 403, "region_not_enrolled"},
		{"a replay", good, 409, "federation_stale"},
		{"from an hour ago", mustJSONT(t, federation.Sign(keyA, regionA, federation.PurposePackage, pkg(regionA, 13, now.Add(-time.Hour)))), 409, "federation_stale"},
		{"a key of another region", mustJSONT(t, federation.Sign(keyA, regionA, federation.PurposePackage,
			mustJSONT(t, federation.Package{Region: regionA, Seq: 14, IssuedAt: now, TrustList: json.RawMessage(foreignTrustList(t, regionB))}))), 422, "trust_list_invalid"},
	} {
		if st, code := post(c.body); st != c.status || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, st, code, c.status, c.code)
		}
	}
	if _, after := h.Hub.Bundle(); after != etag {
		t.Errorf("a refused upload changed the bundle")
	}
	// ETag: a node that holds the bundle gets 304.
	req, _ := http.NewRequest("GET", hs.URL+federation.PathTrustLists, nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match the current ETag: %d", resp.StatusCode)
	}
	// A status query signed by nobody enrolled.
	q := mustJSONT(t, federation.Sign(stranger, regionA, federation.PurposeStatusRequest, mustJSONT(t, federation.StatusRequest{From: regionA, Issuer: regionB, At: now})))
	rs, err := http.Post(hs.URL+federation.PathStatus, "application/json", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	rs.Body.Close()
	if rs.StatusCode != 401 {
		t.Errorf("a status query under a stranger's key: %d", rs.StatusCode)
	}
}

func foreignTrustList(t *testing.T, issuer string) []byte {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return testTrustList(t, issuer, k.Public().(ed25519.PublicKey))
}

func mustJSONT(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testTrustList(t *testing.T, issuer string, pub ed25519.PublicKey) []byte {
	t.Helper()
	kid, err := codeformat.KeyIDFor(pub)
	if err != nil {
		t.Fatal(err)
	}
	tl := codeformat.TrustList{}
	if err := tl.Add(codeformat.PublicKey{KID: kid, Alg: codeformat.AlgEdDSA, Key: pub, Issuer: issuer}); err != nil {
		t.Fatal(err)
	}
	b, err := tl.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
