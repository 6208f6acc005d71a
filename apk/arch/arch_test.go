package arch

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"x86_64", "x86_64", false},
		{"amd64", "x86_64", false},
		{"aarch64", "aarch64", false},
		{"arm64", "aarch64", false},
		{"arm64/v8", "aarch64", false},
		{"arm/v7", "armv7", false},
		{"arm/v6", "armhf", false},
		{"arm", "armv7", false},
		{"386", "x86", false},
		{"loong64", "loongarch64", false},
		{"sparc", "", true},
		{"arm/v5", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, a := range Known() {
		p, err := ToPlatform(a)
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromPlatform(p.Architecture, p.Variant)
		if err != nil || back != a {
			t.Errorf("%s -> %s -> %q, %v", a, p, back, err)
		}
	}
}
