package codeformat

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"
)

func zlibOf(tb testing.TB, level int, data []byte, dict []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w *zlib.Writer
	var err error
	if dict != nil {
		w, err = zlib.NewWriterLevelDict(&buf, level, dict)
	} else {
		w, err = zlib.NewWriterLevel(&buf, level)
	}
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func TestCompressIsZlib(t *testing.T) {
	for _, n := range []int{0, 1, 200, MaxCOSESize, 70000, 140000} {
		data := bytes.Repeat([]byte{0xa5, 0x01}, n/2+1)[:n]
		z := Compress(data)
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatalf("%d: compress/zlib rejects our header: %v", n, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d: compress/zlib reads %d bytes, %v", n, len(got), err)
		}
		if n <= 0xffff && len(z) != n+11 {
			t.Errorf("%d: %d bytes of overhead, want 11", n, len(z)-n)
		}
	}
}

func TestDecompress(t *testing.T) {
	data := bytes.Repeat([]byte("健康码"), 100)
	for _, level := range []int{zlib.NoCompression, zlib.BestSpeed, zlib.DefaultCompression, zlib.BestCompression, zlib.HuffmanOnly} {
		got, err := Decompress(zlibOf(t, level, data, nil))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("level %d: %v", level, err)
		}
	}
	exact := make([]byte, MaxCOSESize)
	if got, err := Decompress(zlibOf(t, 9, exact, nil)); err != nil || len(got) != MaxCOSESize {
		t.Errorf("exactly MaxCOSESize: %d, %v", len(got), err)
	}

	good := zlibOf(t, 9, data, nil)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	for name, z := range map[string][]byte{
		"empty":             nil,
		"one byte":          good[:1],
		"one over the cap":  zlibOf(t, 9, make([]byte, MaxCOSESize+1), nil),
		"bomb":              zlibOf(t, 9, make([]byte, 10<<20), nil),
		"truncated":         good[:len(good)-6],
		"no checksum":       good[:len(good)-4],
		"short checksum":    good[:len(good)-1],
		"bad checksum":      flip(len(good) - 1),
		"bad header check":  flip(1),
		"not deflate":       append([]byte{0x79, 0x9c - 0x1f}, good[2:]...),
		"trailing data":     append(bytes.Clone(good), 0),
		"preset dictionary": zlibOf(t, 9, data, []byte("dictionary")),
		"raw deflate":       good[2 : len(good)-4],
		"uncompressed":      data,
	} {
		if got, err := Decompress(z); err == nil {
			t.Errorf("%s: accepted, %d bytes", name, len(got))
		}
	}
}
