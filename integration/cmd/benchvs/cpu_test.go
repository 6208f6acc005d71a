package main

import (
	"math"
	"strings"
	"testing"
)

const pprofTop = `File: buildkitd
Type: cpu
Duration: 11s, Total samples = 6.15s (55.90%)
Showing nodes accounting for 6.15s, 100% of 6.15s total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      4.21s 68.46%  github.com/moby/buildkit/cache.computeBlobChain.func4.1
     0.80s 13.01% 13.17%      3.78s 61.46%  compress/flate.(*compressor).deflate
         0     0% 13.17%      3.78s 61.46%  compress/gzip.(*Writer).Write
     0.01s  0.16% 13.33%      0.02s  0.33%  compress/gzip.(*Writer).Close
`

func TestCumSeconds(t *testing.T) {
	tests := []struct {
		name  string
		top   string
		funcs []string
		want  float64
		err   bool
	}{
		{"one", pprofTop, []string{"compress/gzip.(*Writer).Write"}, 3.78, false},
		{"two", pprofTop, []string{"compress/gzip.(*Writer).Write", "compress/gzip.(*Writer).Close"}, 3.80, false},
		// A profile that caught no sample of a function does not list it.
		{"absent", pprofTop, []string{"compress/zstd.(*Encoder).Write"}, 0, false},
		{"header only", strings.Join(strings.Split(pprofTop, "\n")[:5], "\n"), []string{"compress/gzip.(*Writer).Write"}, 0, false},
		{"not seconds", strings.Replace(pprofTop, "3.78s 61.46%  compress/gzip", "3.7xs 61.46%  compress/gzip", 1), []string{"compress/gzip.(*Writer).Write"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cumSeconds(tt.top, tt.funcs...)
			if (err != nil) != tt.err || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("cumSeconds = %v, %v; want %v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCPUAccount(t *testing.T) {
	s := func(cpus ...float64) []sample {
		var out []sample
		for _, c := range cpus {
			out = append(out, sample{wall: 1, cpu: c})
		}
		return out
	}
	r := cpuRuns{
		cold: row{kiln: s(10, 11, 12), peer: s(2, 3, 4)},
		warm: row{kiln: s(1.5, 1.2, 1.3)},
	}
	a := cpuAccount(r, 3.5, replayTimes{installCPU: 1.5, metaCPU: 0.1})
	if a.cold != 11 || a.apko != 3 {
		t.Fatalf("cold %v apko %v, want the medians 11 and 3", a.cold, a.apko)
	}
	if got := sumSecs(a.floor); math.Abs(got-4.8) > 1e-9 {
		t.Errorf("floor %v, want warm 1.3 + compression 3.5", got)
	}
	if got := sumSecs(a.floor) + sumSecs(a.kiln); math.Abs(got-a.cold) > 1e-9 {
		t.Errorf("the parts add up to %v, not the cold build's %v", got, a.cold)
	}
	if a.kiln[0].secs != 1.6 {
		t.Errorf("steps' own work %v, want install 1.5 + meta 0.1", a.kiln[0].secs)
	}
}
