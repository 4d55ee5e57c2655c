package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// answerCheck is how a path's answers are checked under wrk. Where the
// server's counters of what it answered can be read (/metrics, summed
// over the nodes), they are read before and after the run: every answer
// the run drew must be counted good, none bad. Only where they cannot be
// does wrk's script look into each body for needle: handing every body to
// Lua cost wrk 13-25 µs a request more than the bare handler's runs, which
// have no body to check, on the same two cores the server uses
// (docs/PERFORMANCE.md, "The wrk measure").
type answerCheck struct {
	needle string                   // what a good answer's body holds
	metric string                   // the server's counter of answers
	good   func(labels string) bool // which of its series count good answers
}

// outcomeIs is a good for a counter whose outcome label is one of outs.
func outcomeIs(outs ...string) func(string) bool {
	return func(labels string) bool {
		for _, o := range outs {
			if strings.Contains(labels, `outcome="`+o+`"`) {
				return true
			}
		}
		return false
	}
}

var (
	// A verification is good when the code was valid (admitted or
	// refused: a valid code whose colour a checkpoint turns away).
	verifyCheck = answerCheck{needle: string(validTrue), metric: "healthcode_codes_verified_total", good: outcomeIs("admitted", "refused")}
	scanCheck   = answerCheck{needle: string(subjectKey), metric: "healthcode_gateway_scans_total", good: outcomeIs("admitted", "refused")}
	codeCheck   = answerCheck{needle: `"code":"`, metric: "healthcode_codes_issued_total", good: func(l string) bool { return strings.Contains(l, `kind="dynamic"`) }}
)

// answerCounts is a counter's good and other answers, over the nodes.
type answerCounts struct{ good, other float64 }

// counts reads c's counter from every node; ok is false if any node's
// /metrics cannot be read or lacks it.
func (c answerCheck) counts(ctx context.Context, client *http.Client, bases []string) (answerCounts, bool) {
	var n answerCounts
	for _, base := range bases {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
		if err != nil {
			return n, false
		}
		res, err := client.Do(req)
		if err != nil {
			return n, false
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			return n, false
		}
		found := false
		for _, line := range strings.Split(string(body), "\n") {
			series, value, ok := strings.Cut(line, " ")
			if !ok || !strings.HasPrefix(series, c.metric+"{") {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return n, false
			}
			found = true
			if c.good(series[len(c.metric):]) {
				n.good += v
			} else {
				n.other += v
			}
		}
		if !found {
			return n, false
		}
	}
	return n, true
}

// judge adds to w what the counters say was wrong with the run's answers:
// answers counted other than good, and fewer good answers than wrk got
// answers of 2xx (answers the server did not count as good). The server may
// count a few more than wrk: requests in flight when wrk stopped.
func (c answerCheck) judge(w *wrkRun, before, after answerCounts) {
	other := int64(after.other - before.other)
	good := int64(after.good - before.good)
	answered := w.requests - w.status
	var why []string
	if other > 0 {
		w.bad += other
		why = append(why, fmt.Sprintf("the server counted %d answers of %s that were not good", other, c.metric))
	}
	if good < answered {
		w.bad += answered - good
		why = append(why, fmt.Sprintf("wrk got %d answers, the server counted %d good (%s)", answered, good, c.metric))
	}
	if len(why) > 0 && w.sample == "" {
		w.sample = strings.Join(why, "; ")
	}
}
