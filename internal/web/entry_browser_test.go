package web_test

import (
	"context"
	"encoding/base64"
	"time"

	"testing"

	"github.com/healthcode/healthcode/internal/foreign"
)

// The border desk in Chinese, as border staff use it: the demo's two
// arrivals are listed; a forged credential is refused with its reason; a
// traveller's DCC is checked, fills the name, and the registration shows
// the quarantine's red and the local code to print.
func TestBrowserBorderDesk(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	ctx := context.Background()
	if err := e.App.Auth.SetPassword(ctx, "border", "a long border password"); err != nil {
		t.Fatal(err)
	}
	key, cert, err := foreign.NewSigner("IT", foreign.KindTest)
	if err != nil {
		t.Fatal(err)
	}
	pem := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(cert.Raw) + "\n-----END CERTIFICATE-----\n"
	if _, err := e.App.Entry.ImportCertificates(ctx, "test", []byte(pem)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	dcc, err := foreign.IssueDCC(key, cert, foreign.DCC{Country: "IT", IssuedAt: now.Add(-time.Hour), Expires: now.Add(48 * time.Hour),
		Payload: foreign.TestDCC("IT", "Rossi", "Mario", "1975-05-05", now.Add(-10*time.Hour))})
	if err != nil {
		t.Fatal(err)
	}

	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("border", "a long border password")
	u.wantText(".side", "入境登记")
	u.open("/console/entry")
	u.wantText("h2", "入境人员登记")
	u.wantText("#arrivals", "上海浦东国际机场", "DEU", "FRA", "红码", "黄码", "欧盟数字新冠证书")

	// A credential altered in transit: refused, with the reason in Chinese.
	u.fill("#e-credential", dcc[:len(dcc)-6]+"ABCDEF")
	if st := u.submit("#e-verify"); st != 422 {
		t.Fatalf("an altered credential answered %d", st)
	}
	u.wantText("#checked", "凭证无效")
	u.wantText("#checked-reasons", "请重新扫描", "(bad_")

	// The real one: valid, a test, the holder's name filled in.
	u.fill("#e-credential", dcc)
	if st := u.submit("#e-verify"); st != 200 {
		t.Fatalf("checking the DCC answered %d", st)
	}
	u.wantText("#checked", "凭证有效", "检测", "Rossi Mario", "negative")
	if got := eval[string](u, `document.querySelector("#e-name").value`); got != "Rossi Mario" {
		t.Fatalf("the name field holds %q", got)
	}
	if got := eval[string](u, `document.querySelector("#e-origin").value`); got != "ITA" {
		t.Fatalf("the origin field holds %q", got)
	}
	u.fill("#e-idnumber", "YA1234567")
	u.fill("#e-port", "上海浦东国际机场")
	if st := u.submit("#e-register"); st != 201 {
		u.shot("entry-failure")
		t.Fatalf("registering answered %d: %s", st, u.text("main"))
	}
	u.wantText("#arrival-done", "已登记入境", "红码", "集中隔离")
	u.wantText("#arrivals", "ITA")
	u.shot("entry")
	// The local code prints.
	href := eval[string](u, `document.querySelector("#print-code").getAttribute("href")`)
	if st := u.open(href); st != 200 {
		t.Fatalf("printing the local code answered %d", st)
	}

	// In English too.
	u.open("/console/entry?lang=en")
	u.wantText("h2", "Register an inbound traveller")
	u.wantText("#arrivals", "EU Digital COVID Certificate", "Red")
}
