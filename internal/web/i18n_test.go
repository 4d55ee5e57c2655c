package web

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr/apierrtest"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/venue"
)

// Every string in both languages: each catalogue entry has Chinese and
// English, and every key the templates and handlers name exists.
func TestCatalogHasEveryStringInBothLanguages(t *testing.T) {
	for k, m := range catalog {
		if strings.TrimSpace(m[ZH]) == "" || strings.TrimSpace(m[EN]) == "" {
			t.Errorf("%s lacks a language: %q", k, m)
		}
		if strings.Count(m[ZH], "%") != strings.Count(m[EN], "%") {
			t.Errorf("%s: the languages take different arguments: %q", k, m)
		}
	}
	used := map[string]string{}
	keyRe := []*regexp.Regexp{
		regexp.MustCompile(`\.T "([a-z0-9_.]*[a-z0-9_])"`),         // templates: {{.T "key"}}, {{$.T "key"}}
		regexp.MustCompile(`\bT\("([a-z0-9_.]*[a-z0-9_])"`),        // Go: p.T("key")
		regexp.MustCompile(`"((?:flash|nav|tab|js)\.[a-z0-9_]+)"`), // keys passed around as values
	}
	err := fs.WalkDir(os.DirFS("."), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.go") || path == "messages.go" {
			return err
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".html") {
			return nil
		}
		b, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			return err
		}
		for _, re := range keyRe {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				used[m[1]] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use; the scan is broken", len(used))
	}
	for k, where := range used {
		if _, ok := catalog[k]; !ok {
			t.Errorf("%s uses %q, which the catalogue lacks", where, k)
		}
	}
	// Keys built from values (printf "role.%s").
	var dynamic []string
	for _, r := range auth.Roles {
		dynamic = append(dynamic, "role."+string(r))
	}
	for _, ty := range idnum.Types() {
		dynamic = append(dynamic, "idtype."+string(ty))
	}
	for _, r := range person.Relations {
		dynamic = append(dynamic, "rel."+r)
	}
	for _, k := range venue.Kinds {
		dynamic = append(dynamic, "kind."+k)
	}
	for _, c := range []rules.Color{rules.Green, rules.Yellow, rules.Red} {
		dynamic = append(dynamic, "color."+c.String())
	}
	for _, st := range []string{status.AppealPending, status.AppealGranted, status.AppealRejected} {
		dynamic = append(dynamic, "appeal."+st)
	}
	for _, st := range []string{codes.CareValid, codes.CareRevoked, codes.CareExpired} {
		dynamic = append(dynamic, "care.state."+st)
	}
	for _, r := range []string{nat.Pending, nat.Negative, nat.Positive, fact.ResultMixedPositive, nat.Invalid} {
		dynamic = append(dynamic, "result."+r)
	}
	for _, st := range []string{sms.StateQueued, sms.StateSent, sms.StateDelivered, sms.StateFailed} {
		dynamic = append(dynamic, "outbox.state."+st)
	}
	for _, st := range []string{"open", "full", "sealed", "transferred", "reported"} {
		dynamic = append(dynamic, "tube.state."+st)
	}
	dynamic = append(dynamic, "task.retest", "task.resample", "report.accepted", "report.unchanged", "report.corrected",
		"job.running", "job.done", "job.superseded")
	for _, o := range clinic.Outcomes {
		dynamic = append(dynamic, "outcome."+o)
	}
	for _, pu := range []string{hospital.PurposeCard, hospital.PurposeRegistration} {
		dynamic = append(dynamic, "purpose."+pu)
	}
	dynamic = append(dynamic, "task.kind."+tracing.TaskColour)
	for _, o := range tracing.Outcomes {
		dynamic = append(dynamic, "gridvisit.outcome."+o)
	}
	for _, k := range grid.Kinds {
		dynamic = append(dynamic, "import.kind."+k)
	}
	for _, src := range grid.Sources {
		dynamic = append(dynamic, "import.source."+src)
	}
	for _, st := range []string{grid.Running, grid.Done, grid.Failed} {
		dynamic = append(dynamic, "import.status."+st)
	}
	dynamic = append(dynamic, "task.kind."+tracing.TaskCompanion, "outbox.purpose."+sms.KindLoginCode,
		"outbox.purpose."+sms.KindColourChange)
	for _, c := range rules.ProblemCodes {
		dynamic = append(dynamic, "problem."+c)
	}
	for _, k := range dynamic {
		if _, ok := catalog[k]; !ok {
			t.Errorf("the catalogue lacks %q", k)
		}
	}
}

func TestLangOfAndSwitchURL(t *testing.T) {
	p := &page{Lang: ZH, Path: "/me/dependents?x=1&lang=zh"}
	if got := p.SwitchURL(); got != "/me/dependents?x=1&lang=en" {
		t.Errorf("SwitchURL = %q", got)
	}
	p = &page{Lang: EN, Path: "/scan"}
	if got := p.SwitchURL(); got != "/scan?lang=zh" {
		t.Errorf("SwitchURL = %q", got)
	}
	if ZH.T("app.name") != "健康码" || EN.T("app.name") != "Health Code" {
		t.Error("app.name is wrong")
	}
	if got := ZH.T("login.sent", "138****0001"); got != "验证码已发送至 138****0001。" {
		t.Errorf("formatted message = %q", got)
	}
}

func TestLocalPathKeepsRedirectsOnSite(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "/me",
		"/me/dependents":         "/me/dependents",
		"/c/abc?x=1":             "/c/abc?x=1",
		"//evil.example/":        "/me",
		"/\\evil.example":        "/me",
		"https://evil.example/":  "/me",
		"javascript:alert(1)":    "/me",
		"/ok\r\nSet-Cookie: x=1": "/me",
	} {
		if got := localPath(in, "/me"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every error a person may read is in both languages: each case the module
// declares (an apierr sentinel, wherever it lives) has a catalogue line
// err.<code>, so a page never falls back to the English message. A case
// added later without its line fails here, listed with where it is declared.
func TestEveryErrorCodeIsTranslated(t *testing.T) {
	root, err := apierrtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := apierrtest.Sentinels(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("found only %d error cases; the discovery is broken", len(cases))
	}
	var missing []string
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Code] {
			continue
		}
		seen[c.Code] = true
		if m, ok := catalog["err."+c.Code]; !ok || strings.TrimSpace(m[ZH]) == "" || strings.TrimSpace(m[EN]) == "" {
			rel, _ := filepath.Rel(root, c.Pos.Filename)
			missing = append(missing, fmt.Sprintf("  %q: {%q, %q}, // %s:%d %s", "err."+c.Code, "", c.Message, rel, c.Pos.Line, c.Var))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("%d error codes have no catalogue line in both languages (add them to internal/web/messages.go, Chinese first):\n%s",
			len(missing), strings.Join(missing, "\n"))
	}
}
