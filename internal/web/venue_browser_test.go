package web_test

import (
	"bytes"
	"image"
	_ "image/png"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads the QR code in a PNG, as a phone camera would.
func decodeQR(t *testing.T, png []byte) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// A shot of just the symbol is a pure barcode: read it module by module.
	// The finder-pattern search a camera needs can take a run of random
	// data for a finder pattern and fail on a good symbol, now and then.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err == nil {
		return res.GetText()
	}
	res, err2 := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err2 != nil {
		t.Fatalf("no QR code readable on screen: %v; %v", err, err2)
	}
	return res.GetText()
}

// elementShot is a PNG of one element as it is on screen, drawn at three
// device pixels per CSS pixel as on a phone: at one, a QR symbol shrunk to
// fit a narrow screen gets modules 4 and 5 pixels wide in turn, which the
// decoder sometimes cannot measure; a camera sees the phone's pixels.
func (u *ui) elementShot(sel string) []byte {
	u.t.Helper()
	b, err := chromedp.Run(u.ctx, chromedp.ScreenshotScale(chromedp.CSS(sel), 3))
	if err != nil {
		u.t.Fatal(err)
	}
	return b
}

// An operator registers a venue in the console and prints its poster; the
// poster's QR opens the check-in page of that venue; replacing the code
// retires the old poster.
func TestBrowserVenuePoster(t *testing.T) {
	browserTest(t)
	e := newEnv(t, false)
	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)
	u.open("/console/venues")
	u.wantText(".empty", "还没有场所")
	u.fill("#v-name", "宁国市人民医院")
	u.choose("#v-kind", "hospital")
	u.fill("#v-address", "宁国市西津街道宁阳西路")
	u.choose("#v-region", "341881001")
	u.fill("#v-uscc", "1234188148572011XC")
	u.submit("#venue-form button")
	u.wantText("main h1", "宁国市人民医院")
	u.wantText(".flash", "宁国市人民医院")
	u.wantText("dl.facts", "医院", "西津街道", "1234188148572011XC")
	href := eval[string](u, `document.getElementById("poster-link").getAttribute("href")`)
	token := strings.TrimSuffix(strings.TrimPrefix(href, "/venues/"), "/poster")
	if token == "" || token == href {
		t.Fatalf("poster link %q", href)
	}
	u.shot("venue")

	// The poster: name, Chinese instructions, and a QR a phone can read.
	u.open(href)
	u.wantText("#poster-venue", "宁国市人民医院")
	u.wantText(".poster-title", "场所码")
	u.wantText(".poster-steps", "扫描", "确认登记")
	u.wantText(".poster-kicker", "安徽省宣城市宁国市西津街道")
	if got, want := decodeQR(t, u.elementShot(".poster-qr")), e.URL+"/c/"+token; got != want {
		t.Fatalf("the poster's QR says %q, want %q", got, want)
	}
	u.shot("poster")
	// Printed, the poster is alone on an A4 page: the print button is gone
	// and the QR is large.
	u.media("print")
	if d := eval[string](u, `getComputedStyle(document.querySelector(".print-bar")).display`); d != "none" {
		t.Fatalf("the print bar is printed (display %s)", d)
	}
	if w := eval[float64](u, `document.querySelector(".poster-qr svg").getBoundingClientRect().width`); w < 400 {
		t.Fatalf("the printed QR is %.0f px wide, want about 120 mm", w)
	}
	u.media("")
	u.open(href + "?lang=en")
	u.wantText("[data-print]", "Print")
	u.wantText(".poster-title", "场所码") // the poster itself stays Chinese

	// Replacing the code retires the old poster.
	u.open("/console/venues")
	u.wantText("#venues", "宁国市人民医院", "Hospital")
	u.open("/console/venues")
	u.do(chromedp.Click(chromedp.CSS("#venues a")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#poster-link")))
	u.acceptDialogs()
	u.submit("form[action$='/rotate'] button")
	u.wantText(".flash", "new poster")
	if st := u.open(href); st != 410 {
		t.Fatalf("the replaced poster answered %d, want 410", st)
	}
	u.wantText(".error", "replaced")
}
