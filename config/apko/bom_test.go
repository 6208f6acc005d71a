package apko

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// apko reads configurations saved with a UTF-8 byte-order mark; so does
// kiln, to the same result and with the same error positions.
func TestParseWithBOM(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) < 12 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := Parse(filepath.Base(f), data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		marked, err := Parse(filepath.Base(f), append([]byte("\ufeff"), data...))
		if err != nil {
			t.Errorf("%s with a BOM: %v", f, err)
			continue
		}
		if !reflect.DeepEqual(plain, marked) {
			t.Errorf("%s: a BOM changes the parsed configuration", f)
		}
	}
	for _, tt := range []struct{ doc, err string }{
		{"contents: 5\n", "x.yaml:1:11: contents: expected a mapping, got integer 5"},
		{"  contents: [\n", "x.yaml:1:3: invalid YAML: did not find expected node content"},
		{"entrypoint:\n  command: \x01\n", "x.yaml:2:12: invalid YAML: control characters are not allowed"},
	} {
		_, err := Parse("x.yaml", []byte("\ufeff"+tt.doc))
		if err == nil || err.Error() != tt.err {
			t.Errorf("%q with a BOM: error %v, want %s", tt.doc, err, tt.err)
		}
	}
}
