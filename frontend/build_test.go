package frontend

import (
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
)

func TestParseBuildArgs(t *testing.T) {
	tests := []struct {
		args    map[string]string
		epoch   int64
		wantErr string
	}{
		{map[string]string{}, 0, ""},
		{map[string]string{"SOURCE_DATE_EPOCH": "1700000000", "OTHER": "x", "BUILDKIT_SYNTAX": "y"}, 1700000000, ""},
		{map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, 0, `SOURCE_DATE_EPOCH="yesterday"`},
		{map[string]string{"SOURCE_DATE_EPOCH": "-5"}, 0, "non-negative"},
		{map[string]string{"KILN_LAYERS": "3", "KILN_X": "1"}, 0, "unknown build arg KILN_LAYERS, KILN_X: kiln reads SOURCE_DATE_EPOCH"},
		{map[string]string{"KILN_FETCH_TIMEOUT": "90s"}, 0, ""},
		{map[string]string{"KILN_FETCH_TIMEOUT": "90"}, 0, `KILN_FETCH_TIMEOUT="90": want a positive duration`},
		{map[string]string{"KILN_FETCH_TIMEOUT": "-1s"}, 0, `KILN_FETCH_TIMEOUT="-1s": want a positive duration`},
	}
	for _, tt := range tests {
		got, err := ParseBuildArgs(tt.args)
		if testkit.ErrorCase(t, err, tt.wantErr) {
			continue
		}
		if err != nil || got.SourceDateEpoch != tt.epoch {
			t.Errorf("%v: %+v, %v", tt.args, got, err)
		}
	}
}
