//go:build screenshots

package web_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// TestScreenshots takes the pictures of docs/screenshots from the demo: the
// dashboard, the checkpoint scanner after a scan and a resident's code
// page. It is not part of `go test`; run it when the pages change:
//
//	go test -tags screenshots ./internal/web -run TestScreenshots
func TestScreenshots(t *testing.T) {
	browserTest(t)
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	save := func(u *ui, name string, full bool) {
		t.Helper()
		// The whole page for the console; the screen as seen for the
		// phone and the tablet, whose bars are fixed. Quality 100 is a
		// PNG; below it chromedp takes a JPEG.
		shot := chromedp.CaptureScreenshot()
		if full {
			shot = chromedp.FullScreenshot(100)
		}
		buf, err := chromedp.Run(u.ctx, shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A city of a few thousand, as `serve --demo` makes a bigger one.
	e := &env{Server: servertest.Start(t, db.SQLite, servertest.WithWorkers(), servertest.WithDemoResidents(5000)), t: t}

	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.open("/console")
	op.wantText("main", "近24小时亮码")
	save(op, "dashboard", true)

	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000001")
	resident, _ := phone.codeOnScreen()
	save(phone, "code", false)

	key := newCheckpoint(t, e, "西津街道卡口")
	u := newUI(t, e, tabletW, tabletH)
	u.open("/scan")
	u.fill("#api-key", key)
	u.do(chromedp.Click(chromedp.CSS("#signin-form button")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#scanner")), chromedp.WaitVisible(chromedp.CSS("#checkpoint-name")))
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), resident+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='green']")))
	u.do(chromedp.Sleep(600 * time.Millisecond)) // the animation settles
	save(u, "scanner", false)
}
