package integration

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentBuilds (KILN_LOAD=1; hack/load prints its figures): 20
// builds of different configs that share packages, from one loopback
// HTTP repository, at once on one buildkitd, every install step run
// (--no-cache). All must succeed with the digests the same configs get
// built one at a time, and the peak resident memory of buildkitd and of
// the frontend processes is reported.
func TestConcurrentBuilds(t *testing.T) {
	requireStack(t)
	if os.Getenv("KILN_LOAD") != "1" {
		t.Skip("load test: KILN_LOAD=1 (hack/load runs it and prints the figures)")
	}
	const builds, fillers = 20, 24
	repoDir := t.TempDir()
	writeRepo(t, filepath.Join(repoDir, "packages"), nil, fillers)
	srv := newFaultServer(t, repoDir)
	contexts := make([]string, builds)
	for i := range contexts {
		ctx := t.TempDir()
		pkgs := []string{"kiln-baselayout", "busybox", "hello"}
		for j := 0; j < 6; j++ {
			pkgs = append(pkgs, fmt.Sprintf("filler-%02d", (i*3+j)%fillers))
		}
		cfg := "contents:\n  repositories:\n    - " + srv.url("packages") + "\n  keyring:\n    - " + srv.url("packages/kiln-test.rsa.pub") +
			"\n  packages:\n    - " + strings.Join(pkgs, "\n    - ") + "\nentrypoint:\n  command: /usr/bin/hello\narchs: [x86_64]\n"
		if err := os.WriteFile(filepath.Join(ctx, "apko.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		contexts[i] = ctx
	}

	start := time.Now()
	serial := make([]string, builds)
	for i, ctx := range contexts {
		out, digest, _ := timedBuild(t, ctx, 5*time.Minute, "--no-cache")
		if digest == "" {
			t.Fatalf("serial build %d failed:\n%s", i, lastLines(out, 15))
		}
		serial[i] = digest
	}
	serialTook := time.Since(start)

	mon := startMemoryMonitor(t)
	start = time.Now()
	concurrent := make([]string, builds)
	var wg sync.WaitGroup
	for i, ctx := range contexts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, digest, _ := timedBuild(t, ctx, 10*time.Minute, "--no-cache")
			if digest == "" {
				t.Errorf("concurrent build %d failed:\n%s", i, lastLines(out, 15))
			}
			concurrent[i] = digest
		}()
	}
	wg.Wait()
	concurrentTook := time.Since(start)
	peak := mon.stop()

	for i := range contexts {
		if concurrent[i] != serial[i] {
			t.Errorf("config %d: concurrent build %s, serial %s", i, concurrent[i], serial[i])
		}
	}
	t.Logf("LOAD builds=%d serial=%s concurrent=%s", builds, serialTook.Round(time.Second), concurrentTook.Round(time.Second))
	t.Logf("LOAD buildkitd_rss_before=%s buildkitd_rss_peak=%s", mib(peak.buildkitdBefore), mib(peak.buildkitd))
	t.Logf("LOAD frontend_rss_peak_one=%s frontend_rss_peak_sum=%s frontends_at_once=%d frontends_seen=%d samples=%d",
		mib(peak.frontendOne), mib(peak.frontendSum), peak.frontendsAtOnce, len(peak.frontendPIDs), peak.samples)
}

func mib(kb int64) string { return fmt.Sprintf("%.1fMiB", float64(kb)/1024) }

// memoryPeak is what a memoryMonitor saw, in KiB of resident memory.
type memoryPeak struct {
	buildkitdBefore, buildkitd int64
	frontendOne, frontendSum   int64 // the largest frontend process; all of them at one moment
	frontendsAtOnce            int
	frontendPIDs               map[int]bool
	samples                    int
}

// memoryMonitor samples VmRSS of buildkitd (VmHWM would cover its whole
// life, not this test) and of every kiln frontend process (BuildKit
// starts one per build, from kiln's image: "/bin/kiln frontend") every
// 100ms. Frontends of other builds running on the stack at the same time
// are counted too.
type memoryMonitor struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak memoryPeak
}

func startMemoryMonitor(t *testing.T) *memoryMonitor {
	t.Helper()
	pidData, err := os.ReadFile(filepath.Join(os.Getenv("KILN_STACK_DIR"), "run", "buildkitd.pid"))
	if err != nil {
		t.Fatalf("buildkitd pid: %v", err)
	}
	bk, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if err != nil {
		t.Fatal(err)
	}
	m := &memoryMonitor{done: make(chan struct{}), peak: memoryPeak{frontendPIDs: map[int]bool{}}}
	m.peak.buildkitdBefore = vmRSS(bk)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			m.sample(bk)
			select {
			case <-m.done:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *memoryMonitor) sample(buildkitd int) {
	m.peak.samples++
	m.peak.buildkitd = max(m.peak.buildkitd, vmRSS(buildkitd))
	var sum int64
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || string(cmd) != "/bin/kiln\x00frontend\x00" {
			continue
		}
		rss := vmRSS(pid)
		m.peak.frontendPIDs[pid] = true
		m.peak.frontendOne = max(m.peak.frontendOne, rss)
		sum += rss
		n++
	}
	m.peak.frontendSum = max(m.peak.frontendSum, sum)
	m.peak.frontendsAtOnce = max(m.peak.frontendsAtOnce, n)
}

func (m *memoryMonitor) stop() memoryPeak {
	close(m.done)
	m.wg.Wait()
	return m.peak
}

// vmRSS reads a process's resident set in KiB (0 when it is gone).
func vmRSS(pid int) int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
