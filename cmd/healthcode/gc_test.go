package main

import (
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"8GiB", 8 << 30, true},
		{"512MiB", 512 << 20, true},
		{"3000000000", 3_000_000_000, true},
		{"2 GB", 2_000_000_000, true},
		{"1KiB", 1024, true},
		{"", 0, false},
		{"-1GiB", 0, false},
		{"lots", 0, false},
		{"8GiBs", 0, false},
		{"99999999999TiB", 0, false},
	} {
		got, err := parseBytes(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestGCTuningResolve(t *testing.T) {
	const machine = 16 << 30
	mem := func() int64 { return machine }
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name string
		in   gcTuning
		env  func(string) string
		want gcTuning
	}{
		{"defaults bound the heap by 3/4 of the machine", gcTuning{percent: 400}, env(), gcTuning{400, machine * 3 / 4}},
		{"a limit given is kept", gcTuning{percent: 400, limit: 1 << 30}, env(), gcTuning{400, 1 << 30}},
		{"GOGC wins over the flag, and its owner sets the limit too", gcTuning{percent: 400}, env("GOGC", "100"), gcTuning{}},
		{"GOMEMLIMIT wins over the flag", gcTuning{percent: 400, limit: 1 << 30}, env("GOMEMLIMIT", "2GiB"), gcTuning{400, 0}},
		{"the runtime's default percentage needs no limit", gcTuning{}, env(), gcTuning{}},
	} {
		if got := tc.in.resolve(tc.env, mem); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := (gcTuning{percent: 400}).resolve(env(), func() int64 { return 0 }); got.limit != 0 {
		t.Errorf("unknown machine memory: limit %d, want none", got.limit)
	}
}

func TestParseMemTotal(t *testing.T) {
	in := "MemFree:         1000 kB\nMemTotal:       24576000 kB\nBuffers: 1 kB\n"
	if got := parseMemTotal(strings.NewReader(in)); got != 24576000<<10 {
		t.Errorf("MemTotal = %d", got)
	}
	if got := parseMemTotal(strings.NewReader("nothing here\n")); got != 0 {
		t.Errorf("no MemTotal = %d, want 0", got)
	}
}
