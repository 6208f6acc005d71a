package apko

import (
	"os"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/nginx.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c, err := Parse("nginx.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadInclude(b *testing.B) {
	for b.Loop() {
		if _, err := Load("include.yaml", readTestdata); err != nil {
			b.Fatal(err)
		}
	}
}
