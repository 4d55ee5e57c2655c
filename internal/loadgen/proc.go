package loadgen

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux the project runs on (the C library's sysconf is not reachable
// without cgo).
const clockTicks = 100

// cpuSnap is the CPU time used so far by the answering process and by this
// one, in seconds; negative when unknown.
type cpuSnap struct{ server, client float64 }

// readCPU reads the CPU time of the answering processes (several nodes
// count together: their sum is the server's cost) and of this one.
func readCPU(pids ...int) cpuSnap {
	s := cpuSnap{server: -1, client: procCPU("self")}
	for i, pid := range pids {
		if pid <= 0 {
			return cpuSnap{server: -1, client: s.client}
		}
		c := procCPU(strconv.Itoa(pid))
		if c < 0 {
			return cpuSnap{server: -1, client: s.client}
		}
		if i == 0 {
			s.server = 0
		}
		s.server += c
	}
	return s
}

// treeCPU is the CPU time, in seconds, of a process and of its children,
// those that have exited included (a PostgreSQL server: the postmaster and
// its backends), or -1.
func treeCPU(pid int) float64 {
	own := procStat(strconv.Itoa(pid))
	if own == nil {
		return -1
	}
	total := own[0] + own[1] + own[2] + own[3] // cutime, cstime: exited children
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	for _, e := range ents {
		if e.Name()[0] < '1' || e.Name()[0] > '9' {
			continue
		}
		f := procStat(e.Name())
		if f != nil && int(f[4]) == pid {
			total += f[0] + f[1]
		}
	}
	return total / clockTicks
}

// procStat reads utime, stime, cutime, cstime and the parent's id of a
// process from /proc, or nil.
func procStat(pid string) []float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	f := strings.Fields(s[i+1:])
	// After the name: state is field 3, ppid 4, utime 14 ... cstime 17.
	if len(f) < 15 {
		return nil
	}
	out := make([]float64, 5)
	for k, j := range []int{11, 12, 13, 14, 1} {
		v, err := strconv.ParseFloat(f[j], 64)
		if err != nil {
			return nil
		}
		out[k] = v
	}
	return out
}

// procCPU reads utime+stime of a process from /proc, in seconds, or -1.
func procCPU(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	// After the name: state is field 3, utime 14, stime 15.
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return (u + st) / clockTicks
}

// cpuUse is the CPU the processes used during a phase and the requests it
// is divided by.
type cpuUse struct {
	server, client, wall, requests float64
}

// since is the use from s0 to s over a phase of wall time elapsed, of
// which the tally's window counted t.requests in t.seconds: the requests of
// the whole phase (warm-up included) are estimated at the same rate.
func (s cpuSnap) since(s0 cpuSnap, elapsed time.Duration, t *tally) *cpuUse {
	if s.server < 0 || s0.server < 0 || t.seconds <= 0 {
		return &cpuUse{}
	}
	return &cpuUse{server: s.server - s0.server, client: s.client - s0.client, wall: elapsed.Seconds(),
		requests: float64(t.requests) / t.seconds * elapsed.Seconds()}
}

func (u *cpuUse) add(o *cpuUse) {
	if o == nil {
		return
	}
	u.server += o.server
	u.client += o.client
	u.wall += o.wall
	u.requests += o.requests
}
