package codeformat

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"

	qrcode "github.com/skip2/go-qrcode"
)

// qrLevel is the error-correction level of PNG: go-qrcode's High is QR
// level Q (about 25% recoverable), as for the EU DCC. Care codes are printed
// and handled, dynamic codes are read off scratched and glaring screens.
const qrLevel = qrcode.High

// PNG renders a code as a QR symbol in a size×size image (larger if size
// cannot hold one pixel per module). Every character of a code is in the QR
// alphanumeric set, so go-qrcode never falls back to byte mode (it may use
// numeric segments for runs of digits, which are denser still).
func PNG(code string, size int) ([]byte, error) {
	q, err := qrcode.New(code, qrLevel)
	if err != nil {
		return nil, fmt.Errorf("code: qr: %w", err)
	}
	// Draw whole pixels per module and centre the symbol on a white
	// margin: go-qrcode's own scaling to an arbitrary size makes modules of
	// uneven width, which decoders misread.
	modules := len(q.Bitmap()) // quiet zone included
	scale := max(1, size/modules)
	sym := q.Image(-scale)
	side := max(size, sym.Bounds().Dx())
	img := image.NewPaletted(image.Rect(0, 0, side, side), sym.(*image.Paletted).Palette)
	off := (side - sym.Bounds().Dx()) / 2
	draw.Draw(img, sym.Bounds().Add(image.Pt(off, off)), sym, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
