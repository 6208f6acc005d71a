package sbom

import (
	"encoding/json"
	"fmt"
	"testing"
)

// syntheticInput is an image of n apks, each depending on the one
// before, every tenth shipping its own melange document.
func syntheticInput(n int) Input {
	in := Input{Arch: "x86_64", Platform: "linux/amd64", ImageName: "bench"}
	for i := 0; i < n; i++ {
		p := Package{Name: fmt.Sprintf("pkg%03d", i), Version: "1.0-r0", Arch: "x86_64", License: "MIT AND Apache-2.0",
			Origin: fmt.Sprintf("pkg%03d", i), Checksum: "Q1ag8oI5ZJpwFf0vfUBwdKtE1hAT0=",
			Repository: "https://packages.wolfi.dev/os", SHA256: "abababababababababababababababababababababababababababababababab"}
		if i > 0 {
			p.Depends = []string{in.Packages[i-1].Name}
		}
		if i%10 == 0 {
			p.Embedded = []Embedded{{Path: "var/lib/db/sbom/" + p.Name + ".spdx.json", Data: melangeDoc(p.Name, p.Version)}}
		}
		in.Packages = append(in.Packages, p)
	}
	return in
}

// BenchmarkBuild measures building and encoding a document; the
// json.Marshal of the same input (what the frontend sends the step) is
// the baseline to compare against.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{30, 300} {
		in := syntheticInput(n)
		b.Run(fmt.Sprintf("marshal-input-%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := json.Marshal(in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("build-encode-%d", n), func(b *testing.B) {
			var size int
			for b.Loop() {
				doc, err := Build(in)
				if err != nil {
					b.Fatal(err)
				}
				enc, err := Encode(doc)
				if err != nil {
					b.Fatal(err)
				}
				size = len(enc)
			}
			b.ReportMetric(float64(size), "doc-bytes")
		})
	}
}
