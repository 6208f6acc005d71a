package resolve

import (
	"errors"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// archRepo is a repository for arch whose packages (built by pk) are
// relabelled for it, noarch ones excepted.
func archRepo(name, arch string, pkgs ...*index.Package) Repository {
	for _, p := range pkgs {
		if p.Arch != "noarch" {
			p.Arch = arch
		}
	}
	return Repository{Name: name, Arch: arch, Packages: pkgs}
}

func TestResolveArchs(t *testing.T) {
	cases := []struct {
		name     string
		x86, arm []*index.Package
		world    []string
		want     map[string]string // arch → install order
		wantErr  string
	}{
		{"newest version on every architecture",
			[]*index.Package{pk("a-1-r0"), pk("a-2-r0")}, []*index.Package{pk("a-1-r0")},
			[]string{"a"}, map[string]string{"x86_64": "a-1-r0", "aarch64": "a-1-r0"}, ""},
		{"noarch counts as present everywhere",
			[]*index.Package{pk("a-1-r0", "D:d"), pk("d-3-r0", "A:noarch")}, []*index.Package{pk("a-1-r0", "D:d")},
			[]string{"a"}, map[string]string{"x86_64": "d-3-r0 a-1-r0", "aarch64": "d-3-r0 a-1-r0"}, ""},
		{"missing on one architecture",
			[]*index.Package{pk("a-1-r0"), pk("x-1-r0")}, []*index.Package{pk("a-1-r0")},
			[]string{"a", "x"}, nil, "aarch64 (resolving aarch64, x86_64 together): world: x: provided by nothing in [arm/main]"},
		{"only versions missing elsewhere",
			[]*index.Package{pk("x-1-r0")}, []*index.Package{pk("x-2-r0")},
			[]string{"x"}, nil, "world: x: x-2-r0: ruled out: not available for x86_64"},
		{"architectures made to agree on a version",
			[]*index.Package{pk("a-1-r0", "D:b"), pk("b-1-r0"), pk("b-2-r0")}, []*index.Package{pk("a-1-r0", "D:b<2"), pk("b-1-r0"), pk("b-2-r0")},
			[]string{"a"}, map[string]string{"x86_64": "b-1-r0 a-1-r0", "aarch64": "b-1-r0 a-1-r0"}, ""},
		{"a name only one architecture's dependencies need",
			[]*index.Package{pk("a-1-r0", "D:extra"), pk("extra-1-r0")}, []*index.Package{pk("a-1-r0"), pk("extra-1-r0")},
			[]string{"a"}, map[string]string{"x86_64": "extra-1-r0 a-1-r0", "aarch64": "a-1-r0"}, ""},
		{"versions that cannot agree",
			[]*index.Package{pk("a-1-r0", "D:b>=2"), pk("b-1-r0"), pk("b-2-r0")}, []*index.Package{pk("a-1-r0", "D:b<2"), pk("b-1-r0"), pk("b-2-r0")},
			[]string{"a"}, nil, "architectures disagree on b (aarch64 chose 1-r0, x86_64 chose 2-r0)"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			byArch := map[string][]Repository{
				"x86_64":  {archRepo("x86/main", "x86_64", tt.x86...)},
				"aarch64": {archRepo("arm/main", "aarch64", tt.arm...)},
			}
			sols, err := ResolveArchs(byArch, tt.world)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "resolving aarch64, x86_64 together") {
					t.Errorf("error does not say the architectures are resolved together: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for arch, want := range tt.want {
				sol := sols[arch]
				if got := order(sol); got != want || sol.Arch != arch {
					t.Errorf("%s: got %q (arch %s), want %q", arch, got, sol.Arch, want)
				}
				checkSolution(t, tt.world, sol)
			}
		})
	}
}

func TestResolveArchsNoarchFromAnotherIndex(t *testing.T) {
	byArch := map[string][]Repository{
		"x86_64":  {archRepo("x86/main", "x86_64", pk("a-1-r0", "D:d"), pk("d-3-r0", "A:noarch"))},
		"aarch64": {archRepo("arm/main", "aarch64", pk("a-1-r0", "D:d"))},
	}
	sols, err := ResolveArchs(byArch, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	// aarch64 installs d from the repository that lists it.
	for arch, from := range map[string]string{"x86_64": "x86/main", "aarch64": "x86/main"} {
		if got := sols[arch].Packages[0]; got.Package.Name != "d" || got.Repository.Name != from {
			t.Errorf("%s: %s from %s, want d from %s", arch, got.Package.Name, got.Repository.Name, from)
		}
	}
	if got := sols["aarch64"].Packages[1].Repository.Name; got != "arm/main" {
		t.Errorf("aarch64: a from %s", got)
	}
}

func TestResolveArchsSingleAndNone(t *testing.T) {
	sols, err := ResolveArchs(map[string][]Repository{"riscv64": {{Name: "main", Packages: []*index.Package{pk("a-1-r0", "A:riscv64")}}}}, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if sols["riscv64"].Arch != "riscv64" || order(sols["riscv64"]) != "a-1-r0" {
		t.Errorf("got %+v", sols["riscv64"])
	}
	if _, err := ResolveArchs(map[string][]Repository{"x86_64": {repo("main", pk("a-1-r0"))}}, []string{"b"}); err == nil ||
		!strings.Contains(err.Error(), "x86_64: world: b: provided by nothing in [main]") {
		t.Errorf("err = %v", err)
	}
	if _, err := ResolveArchs(nil, []string{"a"}); err == nil {
		t.Error("no architectures: no error")
	}
}

// TestWorldError checks that a world entry nothing can meet is named, as
// written, in a *WorldError a caller can place, through every arch's
// wrapping; failures below the world are not WorldErrors.
func TestWorldError(t *testing.T) {
	tests := []struct {
		name  string
		pkgs  []*index.Package
		world []string
		entry string // "" when the failure is not a world entry's
	}{
		{"missing name", []*index.Package{pk("a-1-r0")}, []string{"a", "nosuch"}, "nosuch"},
		{"version out of reach", []*index.Package{pk("a-1-r0")}, []string{"a>=2"}, "a>=2"},
		{"dependency missing", []*index.Package{pk("a-1-r0", "D:lib")}, []string{"a"}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, both := range []bool{false, true} {
				byArch := map[string][]Repository{"x86_64": {repo("main", tt.pkgs...)}}
				if both {
					var arm []*index.Package
					for _, p := range tt.pkgs {
						c := *p
						arm = append(arm, &c)
					}
					byArch["aarch64"] = []Repository{archRepo("main", "aarch64", arm...)}
				}
				_, err := ResolveArchs(byArch, tt.world)
				if err == nil {
					t.Fatal("resolved")
				}
				var we *WorldError
				if got := errors.As(err, &we); got != (tt.entry != "") || got && we.Entry != tt.entry {
					t.Errorf("archs=%v: %v: WorldError %v (%+v), want entry %q", both, err, got, we, tt.entry)
				}
			}
		})
	}
}
