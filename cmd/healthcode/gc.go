package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// A node's live heap is small and steady (the status cache is 8 bytes a
// resident) while every request allocates a little, so Go's default of
// collecting each time the heap doubles spends a tenth of a busy node's CPU on
// garbage collection. Collecting less often and bounding memory with a soft
// limit instead is the trade the Go runtime documents for such servers
// (https://go.dev/doc/gc-guide#Memory_limit): the limit, not the percentage,
// keeps the heap in bounds.
const (
	defaultGCPercent = 400
	// memoryShare of the machine's (or container's) memory is the default
	// soft limit: room for the rest of the process and the page cache.
	memoryShare = 0.75
)

// gcTuning is what serve applies to the Go runtime.
type gcTuning struct {
	percent int   // debug.SetGCPercent
	limit   int64 // debug.SetMemoryLimit, bytes; 0: leave it
}

// memoryFlag parses sizes such as 8GiB, 512MiB, 3000000000 (bytes).
type memoryFlag int64

func (m *memoryFlag) String() string {
	if m == nil || *m == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*m), 10)
}

func (m *memoryFlag) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*m = memoryFlag(n)
	return nil
}

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("a size in bytes such as 8GiB or 512MiB, not %q", s)
	}
	return n * mult, nil
}

// resolve decides the tuning from the flags and the environment: GOGC and
// GOMEMLIMIT, when set, are the operator's own choice and win over the
// defaults (the runtime has applied them already).
func (t gcTuning) resolve(getenv func(string) string, machineMemory func() int64) gcTuning {
	if getenv("GOGC") != "" {
		t.percent = 0
	}
	if getenv("GOMEMLIMIT") != "" {
		t.limit = 0
	} else if t.limit == 0 && t.percent > 0 {
		// Without a limit a higher percentage alone could grow the heap
		// past what the machine has when the live heap is large.
		if total := machineMemory(); total > 0 {
			t.limit = int64(float64(total) * memoryShare)
		}
	}
	return t
}

func (t gcTuning) apply() {
	if t.percent > 0 {
		debug.SetGCPercent(t.percent)
	}
	if t.limit > 0 {
		debug.SetMemoryLimit(t.limit)
	}
}

// machineMemory is the memory this process may use: the machine's, or its
// control group's limit where that is lower (a container). 0 if unknown.
func machineMemory() int64 {
	total := memTotal("/proc/meminfo")
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	return parseMemTotal(f)
}

// parseMemTotal reads MemTotal (in kB) from /proc/meminfo's format.
func parseMemTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return n << 10
		}
	}
	return 0
}
