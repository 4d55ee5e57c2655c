package codeformat

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// readQR decodes a PNG with gozxing, a QR decoder independent of the
// encoder we use.
func readQR(tb testing.TB, pngBytes []byte) *gozxing.Result {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		tb.Fatal(err)
	}
	return readQRImage(tb, img)
}

func readQRImage(tb testing.TB, img image.Image) *gozxing.Result {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		// gozxing's finder-pattern search misses about 2% of clean
		// version 9-12 symbols, its own encoder's output included, by
		// taking a finder-like run of data modules for a corner. Our PNGs
		// are clean renders, which the pure-barcode mode reads without
		// that search.
		res, err = zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	if err != nil {
		tb.Fatalf("gozxing: %v", err)
	}
	return res
}

func TestPNGIsAlphanumericQR(t *testing.T) {
	for _, alg := range benchAlgs {
		code := mustEncode(t, testClaims(), testSigner(t, alg, "a"), testMACKey)
		p, err := PNG(code, 400)
		if err != nil {
			t.Fatal(err)
		}
		res := readQR(t, p)
		if res.GetText() != code {
			t.Fatalf("%v: QR holds %q, want %q", alg, res.GetText(), code)
		}
		md := res.GetResultMetadata()
		// gozxing records byte segments only when the symbol uses byte mode.
		if segs, ok := md[gozxing.ResultMetadataType_BYTE_SEGMENTS]; ok && segs != nil {
			t.Errorf("%v: QR uses byte mode", alg)
		}
		if lvl := md[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; lvl != "Q" {
			t.Errorf("%v: error correction %v, want Q", alg, lvl)
		}
	}
	// A string outside the alphanumeric set does use byte mode, so the
	// check above can fail.
	p, _ := PNG("jkm1:lower case", 200)
	if segs := readQR(t, p).GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS]; segs == nil {
		t.Error("byte-mode detection does not work")
	}
}
