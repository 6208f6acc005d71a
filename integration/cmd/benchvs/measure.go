package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one timed run.
type sample struct {
	wall, cpu float64 // seconds
}

// run runs argv (in dir, with extra environment) and times it; withDaemon
// adds buildkitd's CPU time over the run, since a buildx client does
// little of the work itself. It returns what the command printed.
//
// Every run starts with the disk's pending writes flushed, untimed: the
// runs before it (an OCI tar written, a probe's context of thousands of
// files) leave hundreds of megabytes in the page cache, and whichever
// tool next calls fdatasync (buildkitd's databases do, a few hundred
// times a build) waits for the journal to write them. Measured on the
// large image's bump: 1.86–2.10 s after 156 MB of copied files, 1.60–1.72
// s with a sync between.
func run(dir string, env []string, withDaemon bool, argv ...string) (sample, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	syscall.Sync()
	before := daemonCPU(withDaemon)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil {
		return sample{}, out.String(), fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail(out.String(), 25))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := tv(ru.Utime) + tv(ru.Stime) + daemonCPU(withDaemon) - before
	return sample{wall: wall, cpu: cpu}, out.String(), nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// daemonCPU is buildkitd's and its children's CPU seconds so far (the
// step containers are its children; runc reaps into it).
func daemonCPU(enabled bool) float64 {
	if !enabled {
		return 0
	}
	pidFile := os.Getenv("KILN_STACK_DIR") + "/run/buildkitd.pid"
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name: utime(14) stime(15) cutime(16) cstime(17).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	var ticks float64
	for _, i := range []int{11, 12, 13, 14} {
		v, _ := strconv.ParseFloat(f[i], 64)
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// stats are the min, median and max of values.
type stats struct{ min, med, max float64 }

func summarize(vs []float64) stats {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return stats{}
	}
	return stats{s[0], s[len(s)/2], s[len(s)-1]}
}

func (s stats) String() string { return fmt.Sprintf("%6.2f (%5.2f–%5.2f)", s.med, s.min, s.max) }

// row is one line of a comparison: the same case for kiln and the other.
type row struct {
	name       string
	kiln, peer []sample
}

func (r row) print(peerName string) {
	var kw, kc, pw, pc, ratio []float64
	for i := range r.kiln {
		kw = append(kw, r.kiln[i].wall)
		kc = append(kc, r.kiln[i].cpu)
		if i < len(r.peer) {
			pw = append(pw, r.peer[i].wall)
			pc = append(pc, r.peer[i].cpu)
			ratio = append(ratio, r.kiln[i].wall/r.peer[i].wall)
		}
	}
	k, p := summarize(kw), summarize(pw)
	fmt.Printf("| %-34s | %s s, %5.2f CPU-s | %s s, %5.2f CPU-s | %5.2f× (pairs %4.2f–%4.2f) |\n",
		r.name, k, summarize(kc).med, p, summarize(pc).med, k.med/p.med, summarize(ratio).min, summarize(ratio).max)
}

func header(peerName string) {
	fmt.Printf("| %-34s | %-33s | %-33s | %-25s |\n", "case", "kiln median (min–max)", peerName+" median (min–max)", "ratio of medians")
	fmt.Printf("|%s|%s|%s|%s|\n", strings.Repeat("-", 36), strings.Repeat("-", 35), strings.Repeat("-", 35), strings.Repeat("-", 27))
}

var vertexLine = regexp.MustCompile(`^#(\d+) (.*)$`)
var doneLine = regexp.MustCompile(`^#(\d+) DONE ([0-9.]+)s$`)

// vertexTimes reads BuildKit's plain progress: each vertex's name and the
// seconds it took (cached ones are left out), longest first.
func vertexTimes(progress string) []string {
	names := map[string]string{}
	secs := map[string]float64{}
	for _, line := range strings.Split(progress, "\n") {
		if m := doneLine.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			secs[m[1]] = v
			continue
		}
		if m := vertexLine.FindStringSubmatch(line); m != nil {
			if _, ok := names[m[1]]; !ok && !strings.HasPrefix(m[2], "CACHED") && !regexp.MustCompile(`^[0-9.]+ `).MatchString(m[2]) {
				names[m[1]] = m[2]
			}
		}
	}
	type vt struct {
		name string
		s    float64
	}
	var all []vt
	for id, s := range secs {
		all = append(all, vt{names[id], s})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
	var out []string
	for _, v := range all {
		if v.s >= 0.05 {
			out = append(out, fmt.Sprintf("%6.2f s  %s", v.s, v.name))
		}
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// builderState says how much the builder holds: BuildKit's bookkeeping
// grows with every record (a build with --no-cache adds its snapshots
// next to the old ones, about 50 for the small image). On this machine a
// builder that had run a day of tests (a 100 MB metadata database) made
// the small image's cold build 5.6 s against 3.9 s on a fresh one in the
// same hour: a figure means little without the state it was taken in.
func builderState() string {
	out, err := exec.Command("docker", "buildx", "du", "--builder", "kiln").Output()
	if err != nil {
		return fmt.Sprintf("builder state unknown (docker buildx du: %v)", err)
	}
	records, total := 0, "?"
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0 || f[0] == "ID" || f[0] == "Reclaimable:":
		case f[0] == "Total:" && len(f) > 1:
			total = f[1]
		default:
			records++
		}
	}
	return fmt.Sprintf("builder before this image: %d cache records, %s", records, total)
}
