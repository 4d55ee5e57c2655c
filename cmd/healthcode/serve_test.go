package main

import (
	"net"
	"strings"
	"testing"
)

// A newcomer whose QR codes point at loopback is told how to reach the
// server from a phone; one who gave a reachable public URL is not.
func TestServeHintsAtPublicURLForPhones(t *testing.T) {
	t.Parallel()
	url, stop, out := startServe(t, "--data-dir", t.TempDir())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Asked for port 0, the server's URLs (venue posters, the code's links)
	// carry the port it got, not 0.
	if !strings.Contains(out.String(), "QR codes point at "+url+",") {
		t.Fatalf("serve --addr 127.0.0.1:0 gave QR codes another URL than %s:\n%s", url, out)
	}
	if !strings.Contains(out.String(), "to scan them with a phone on this network, start with --public-url http://") {
		t.Fatalf("serve on loopback printed no hint for phones:\n%s", out)
	}

	_, stop, out = startServe(t, "--data-dir", t.TempDir(), "--public-url", "http://192.168.1.20:8080")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "--public-url") {
		t.Fatalf("serve with a LAN public URL printed the hint:\n%s", out)
	}
}

func TestPhoneHint(t *testing.T) {
	t.Parallel()
	listen := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, c := range []struct {
		publicURL string
		hint      bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://:8080", true}, // --addr :8080 without --public-url
		{"http://192.168.1.20:8080", false},
		{"https://jkm.example.gov.cn", false},
	} {
		got := phoneHint(c.publicURL, listen)
		if (got != "") != c.hint {
			t.Errorf("phoneHint(%q) = %q, want a hint: %v", c.publicURL, got, c.hint)
		}
		if c.hint && !strings.Contains(got, ":8080 --addr :8080") {
			t.Errorf("phoneHint(%q) = %q, want the port kept", c.publicURL, got)
		}
	}
}
