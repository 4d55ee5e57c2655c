package code

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QRLevel is the error-correction level of PNG: go-qrcode's High is QR
// level Q (about 25% recoverable), as for the EU DCC. Care codes are printed
// and handled, dynamic codes are read off scratched and glaring screens.
const QRLevel = qrcode.High

// PNG renders a code as a QR symbol, size pixels square. Every character of
// a code is in the QR alphanumeric set, so go-qrcode never falls back to
// byte mode (it may use numeric segments for runs of digits, which is
// denser still).
func PNG(code string, size int) ([]byte, error) {
	q, err := qrcode.New(code, QRLevel)
	if err != nil {
		return nil, fmt.Errorf("code: qr: %w", err)
	}
	return q.PNG(size)
}
