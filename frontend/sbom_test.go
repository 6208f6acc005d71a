package frontend

import (
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/moby/buildkit/frontend/dockerui"
)

func TestWantSBOM(t *testing.T) {
	def := "docker.io/docker/buildkit-syft-scanner:stable-1"
	tests := []struct {
		name    string
		opt     *dockerui.SBOM
		want    bool
		wantErr string
	}{
		{"not asked", nil, false, ""},
		{"--sbom=true", &dockerui.SBOM{Generator: def, Parameters: map[string]string{}}, true, ""},
		{"buildx repeats the type", &dockerui.SBOM{Generator: def, Parameters: map[string]string{"type": "sbom"}}, true, ""},
		{"disabled", &dockerui.SBOM{Generator: def, Parameters: map[string]string{"disabled": "true"}}, false, ""},
		{"not disabled", &dockerui.SBOM{Generator: def, Parameters: map[string]string{"disabled": "false"}}, true, ""},
		{"other scanner", &dockerui.SBOM{Generator: "docker.io/example/scanner:latest"}, false, "generator=docker.io/example/scanner:latest"},
		{"scanner parameters", &dockerui.SBOM{Generator: def, Parameters: map[string]string{"scan-stage": "true", "scan-context": "true"}}, false, "scan-context=true,scan-stage=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wantSBOM(tt.opt)
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
