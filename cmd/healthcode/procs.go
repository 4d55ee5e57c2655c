package main

import (
	"runtime"

	"github.com/healthcode/healthcode/internal/db"
)

// On SQLite the database runs inside the process as Go code (the driver is
// transpiled C, not cgo), and so does the journal's indexer: a transaction
// holds one of the process's Ps for milliseconds at a time, as the garbage
// collector's mark worker does. With one P per core, the handlers readied
// onto that P's run queue wait until the other P, busy serving, steals them
// or the scheduler preempts the long runner after 10 ms: the p99 of a scan
// on SQLite was 11-19 ms where the bare handler's was 7-11, in the same runs.
// With twice as many Ps as cores the kernel time-slices the threads instead,
// and the p99 fell to 7.9-9.2 ms (docs/PERFORMANCE.md, "Ps on SQLite"). On
// PostgreSQL the database's work is another process's and the runtime's
// default serves as well or better, so it is left alone there.
const sqliteProcsPerCPU = 2

// procsFor is the GOMAXPROCS serve sets, or 0 to leave the runtime's: none
// when the GOMAXPROCS environment variable is set (the operator's own
// choice, which the runtime has applied, as with GOGC), else the flag's value
// when given (above 0), else twice the runtime's default on SQLite.
func procsFor(flag int, engine db.Engine, getenv func(string) string, procs func() int) int {
	switch {
	case getenv("GOMAXPROCS") != "":
		return 0
	case flag > 0:
		return flag
	case engine == db.SQLite:
		return sqliteProcsPerCPU * procs()
	}
	return 0
}

func applyProcs(n int) {
	if n > 0 {
		runtime.GOMAXPROCS(n)
	}
}

// defaultProcs is the runtime's own GOMAXPROCS (the CPUs, or the
// container's limit), whatever an earlier serve in this process set: tests
// run serve more than once.
func defaultProcs() int {
	runtime.SetDefaultGOMAXPROCS()
	return runtime.GOMAXPROCS(0)
}
