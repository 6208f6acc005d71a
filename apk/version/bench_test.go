package version

import "testing"

var sink int

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"1.2.3-r0", "1.36.1_git20230101_p2-r15"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, _ := Parse(s)
				sink += len(v.toks)
			}
		})
	}
}

func BenchmarkCompare(b *testing.B) {
	for _, tt := range []struct{ name, x, y string }{
		{"revision", "1.36.1_git20230101_p2-r15", "1.36.1_git20230101_p2-r16"},
		{"first", "2.0", "3.0"},
		{"leading-zero", "1.2.01-r0", "1.2.001-r0"},
		{"hash", "1.0~1234abcd-r1", "1.0~1234abce-r1"},
	} {
		x, y := MustParse(tt.x), MustParse(tt.y)
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink += x.Compare(y)
			}
		})
	}
}

func BenchmarkCompareLoose(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink += CompareLoose("1.36.1_git20230101_p2-r15", "1.36.1_git20230101_p2-r16")
	}
}

func BenchmarkParseDependency(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, _ := ParseDependency("so:libc.musl-x86_64.so.1>=1.2.3-r4")
		sink += len(d.Name)
	}
}

// BenchmarkRealIndex parses every version and constraint of the real
// Alpine 3.16 index (4929 packages, about 21000 constraints) per op.
func BenchmarkRealIndex(b *testing.B) {
	index := alpineIndex(b)
	versions := indexFields(index, "V")
	var fields []string
	for _, k := range []string{"D", "p", "i", "r"} {
		fields = append(fields, indexFields(index, k)...)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range versions {
			v, _ := Parse(s)
			sink += len(v.toks)
		}
		for _, s := range fields {
			d, _ := ParseDependencies(s)
			sink += len(d)
		}
	}
}
