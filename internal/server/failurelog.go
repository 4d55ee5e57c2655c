package server

import (
	"log/slog"
	"time"
)

// repeatEvery is how often a background task that keeps failing the same
// way is logged again at ERROR. A task that runs every second against a
// stopped hub would otherwise write 86,400 identical lines a day and bury
// everything else; the errors counter still counts each failure.
const repeatEvery = 10 * time.Minute

// failureLog logs a background task's failures: the first of a kind at
// ERROR, repeats of the same error at DEBUG (and at ERROR again every
// repeatEvery, with how many there were), and the recovery at INFO.
type failureLog struct {
	log     *slog.Logger
	task    string
	last    string    // the error being repeated
	logged  time.Time // when it was last logged at ERROR
	repeats int       // failures since, not logged at ERROR
	failing int       // failures since the last success
}

func (f *failureLog) failed(err error, now time.Time) {
	f.failing++
	msg := err.Error()
	if msg == f.last && now.Sub(f.logged) < repeatEvery {
		f.repeats++
		f.log.Debug("background task failed again", "task", f.task, "err", err)
		return
	}
	if msg == f.last {
		f.log.Error("background task failed", "task", f.task, "err", err, "repeats", f.repeats)
	} else {
		f.log.Error("background task failed", "task", f.task, "err", err)
	}
	f.last, f.logged, f.repeats = msg, now, 0
}

func (f *failureLog) succeeded() {
	if f.failing > 0 {
		f.log.Info("background task recovered", "task", f.task, "failures", f.failing)
	}
	f.last, f.repeats, f.failing = "", 0, 0
}
