package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/server"
)

// The federation page of a deployment without a hub says so; the policy
// form refuses with the same reason, and changes nothing.
func TestFederationPageWithoutHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.consoleClient("admin", adminPassword)
	st, body := e.get(c, "/console/federation")
	if st != 200 || !strings.Contains(body, "未接入互认枢纽") {
		t.Fatalf("GET /console/federation: %d\n%s", st, body)
	}
	res, body := e.post(c, "/console/federation/policy", url.Values{"csrf": {csrfOf(body)}, "foreign_region": {"341802"},
		"foreign_color": {"red"}, "local_color": {"yellow"}})
	if res.StatusCode != 404 || !strings.Contains(body, "本部署未接入互认枢纽") {
		t.Fatalf("POST the policy without a hub: %d\n%s", res.StatusCode, body)
	}
}

// With a hub: the page shows the hub, the last pull, the regions with their
// keys, and the policy the form sets.
func TestFederationPageWithHub(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h, err := server.NewHub(context.Background(), server.HubConfig{DataDir: dir, DB: "sqlite:" + filepath.Join(dir, "hub.db"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	hs := httptest.NewServer(h.Handler())
	t.Cleanup(hs.Close)
	e := newEnv(t, false, func(c *server.Config) { c.Hub, c.HubKey = hs.URL, federation.MarshalPublicPEM(h.Hub.PublicKey()) })
	ctx := context.Background()
	if err := h.Hub.Enrol(ctx, "341881", federation.MarshalPublicPEM(e.App.Federation.PublicKey()), "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Federation.Upload(ctx, e.App.CodeKeys.TrustListJSON(), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Federation.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.consoleClient("admin", adminPassword)
	st, body := e.get(c, "/console/federation")
	if st != 200 || !strings.Contains(body, hs.URL) || !strings.Contains(body, `id="federation-regions"`) || !strings.Contains(body, "EdDSA") {
		t.Fatalf("GET /console/federation: %d\n%s", st, body)
	}
	res, _ := e.post(c, "/console/federation/policy", url.Values{"csrf": {csrfOf(body)}, "foreign_region": {"341802"},
		"foreign_color": {"red"}, "local_color": {"yellow"}})
	if res.StatusCode != 303 {
		t.Fatalf("POST the policy: %d", res.StatusCode)
	}
	if _, body := e.get(c, "/console/federation"); !strings.Contains(body, `id="federation-policy"`) || !strings.Contains(body, "341802") {
		t.Fatalf("the policy after the form:\n%s", body)
	}
}
