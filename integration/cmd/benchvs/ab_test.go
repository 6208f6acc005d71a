package main

import (
	"os"
	"testing"
)

// TestContextBytes reads the context a warm build transferred from its
// rawjson progress: three transfers of 2, 162 and 2031 bytes, each
// reported several times as it goes; the config's own transfer
// ("transferring dockerfile: 732") is not the context.
func TestContextBytes(t *testing.T) {
	data, err := os.ReadFile("testdata/transfers.rawjson")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := contextBytes(string(data)), int64(2+162+2031); got != want {
		t.Errorf("contextBytes = %d, want %d", got, want)
	}
	if got := contextBytes("not json\n{}\n"); got != 0 {
		t.Errorf("contextBytes of no transfers = %d", got)
	}
}
