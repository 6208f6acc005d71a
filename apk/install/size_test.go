package install

import (
	"archive/tar"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

func TestSizeAllowance(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		declared, want uint64
	}{
		{0, 16 * mib},
		{1024, 16*mib + 1024},
		{16 * mib, 32 * mib},
		{100 * mib, 200 * mib},
		{math.MaxUint64 / 2, math.MaxUint64},
		{math.MaxUint64, math.MaxUint64},
	}
	for _, tt := range tests {
		if got := SizeAllowance(tt.declared); got != tt.want {
			t.Errorf("SizeAllowance(%d) = %d, want %d", tt.declared, got, tt.want)
		}
	}
}

func declaring(n uint64) func(*index.Package) { return func(p *index.Package) { p.InstalledSize = n } }

// A package may not write much more than the installed size it declares.
func TestDeclaredSizeBound(t *testing.T) {
	const mib = 1 << 20
	big := func(name string, n int) ent { return file(name, strings.Repeat("x", n)) }
	many := func(n, size int) []ent {
		out := []ent{dir("d/")}
		for i := range n {
			out = append(out, big("d/f"+string(rune('a'+i)), size))
		}
		return out
	}
	tests := []struct {
		name     string
		declared uint64
		ents     []ent
		wantErr  string // "" for success
	}{
		{"within the declaration", 2 * mib, []ent{big("f", 2*mib)}, ""},
		{"twice the declaration", 10 * mib, []ent{big("f", 20*mib)}, ""},
		{"small package, 16 MiB slack", 1024, []ent{big("f", 16*mib+1024)}, ""},
		{"one file past the slack", 1024, []ent{big("f", 16*mib+1025)},
			`"f": size limit exceeded: 16778241 bytes of files would be written, the package declares an installed size of 1024 bytes (allowed: 16778240)`},
		{"many files past the slack", 0, many(5, 4*mib),
			`"d/fe": size limit exceeded: 20971520 bytes of files would be written, the package declares an installed size of 0 bytes (allowed: 16777216)`},
		{"past twice a large declaration", 20 * mib, []ent{big("f", 40*mib+1)},
			`"f": size limit exceeded: 41943041 bytes of files would be written, the package declares an installed size of 20971520 bytes (allowed: 41943040)`},
		{"hard links are not written twice", 0, []ent{big("f", 10*mib), hardlink("g", "f"), hardlink("h", "f")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("p", declaring(tt.declared)), tarOf(t, tt.ents...), Control{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "install p-1.0-r0: ") {
				t.Fatalf("Install = %v, want ErrTooBig with %q", err, tt.wantErr)
			}
		})
	}
}

// zeros is an endless stream that counts what was read from it.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// A header claiming gigabytes in a package declaring a kilobyte stops
// before its contents are read, let alone written.
func TestDeclaredSizeStopsBeforeWriting(t *testing.T) {
	pr, pw := io.Pipe()
	src := &zeros{}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		tw := tar.NewWriter(pw)
		err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bomb", Mode: 0o644, Size: 8 << 30})
		if err == nil {
			_, err = io.Copy(tw, io.LimitReader(src, 8<<30))
		}
		pw.CloseWithError(err)
	}()
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	err := in.Install(pkgInfo("bomb", declaring(1024)), tar.NewReader(pr), Control{})
	pr.CloseWithError(errors.New("test done"))
	<-wrote // src.n is the writer's until it stops
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "8589934592 bytes of files would be written, the package declares an installed size of 1024 bytes") {
		t.Fatalf("Install = %v, want ErrTooBig naming both sizes", err)
	}
	if src.n > 1<<20 {
		t.Errorf("read %d bytes of the entry before stopping", src.n)
	}
	if _, err := os.Lstat(filepath.Join(s.root, "bomb")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bomb was created (lstat: %v)", err)
	}
	if es, _ := os.ReadDir(s.root); len(es) != 0 {
		t.Errorf("root holds %d entries", len(es))
	}
}

// Options.MaxTotalSize bounds one Installer across packages.
func TestTotalSizeBound(t *testing.T) {
	const kib = 1 << 10
	tests := []struct {
		name    string
		max     int64
		sizes   []int // one package per size
		wantErr string
	}{
		{"under the bound", 100 * kib, []int{40 * kib, 40 * kib}, ""},
		{"exactly the bound", 80 * kib, []int{40 * kib, 40 * kib}, ""},
		{"second package passes it", 100 * kib, []int{60 * kib, 60 * kib},
			`install p1-1.0-r0: "f1": size limit exceeded: 122880 bytes of files would be written in this install step, more than its limit of 102400 bytes`},
		{"no bound", -1, []int{60 * kib, 60 * kib}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{MaxTotalSize: tt.max})
			var err error
			for i, n := range tt.sizes {
				name := "p" + string(rune('0'+i))
				err = in.Install(pkgInfo(name, declaring(uint64(n))), tarOf(t, file("f"+string(rune('0'+i)), strings.Repeat("y", n))), Control{})
				if err != nil {
					break
				}
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrTooBig) || err.Error() != tt.wantErr {
				t.Fatalf("Install = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
