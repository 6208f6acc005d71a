package pipelines

import (
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/plan/melange"
)

// sub is a subpackages section with one subpackage running the steps
// (YAML list items, indented as pipeline entries of a subpackage).
func sub(name, steps string) string {
	return "subpackages:\n  - name: " + name + "\n    pipeline:\n" + steps
}

// TestSplit runs the split pipelines on package trees and checks where
// every file ends up, in melange-out.
func TestSplit(t *testing.T) {
	tests := []struct {
		name     string
		sections string
		files    []string // under melange-out
		want     []string // melange-out afterwards
		err      string
	}{
		{
			name:     "dev",
			sections: sub("hello-dev", "      - uses: split/dev\n"),
			files: []string{
				"hello/usr/bin/foo", "hello/usr/bin/foo-config", "hello/usr/bin/foo_config",
				"hello/usr/include/foo.h", "hello/usr/include/foo/bar.h",
				"hello/usr/lib/libfoo.so.1", "hello/usr/lib/libfoo.so -> libfoo.so.1", "hello/usr/lib/libfoo.a",
				"hello/usr/lib/pkgconfig/foo.pc", "hello/usr/lib/cmake/Foo/FooConfig.cmake", "hello/usr/lib/foo/crt.o",
				"hello/usr/lib/qt6/mkspecs/linux/qmake.conf",
				"hello/usr/share/aclocal/foo.m4", "hello/usr/share/man/man1/foo.1", "hello/usr/share/gir-1.0/Foo.gir",
				"hello/usr/share/vala/vapi/foo.vapi", "hello/usr/share/vala/other",
				"hello/lib/libbar.so.2", "hello/lib/libbar.so -> libbar.so.2", "hello/lib/libbar.a",
				"hello/opt/sdk/include/sdk.h",
			},
			want: []string{
				"hello-dev/lib/libbar.a", "hello-dev/lib/libbar.so -> libbar.so.2",
				"hello-dev/opt/sdk/include/sdk.h",
				"hello-dev/usr/bin/foo-config", "hello-dev/usr/bin/foo_config",
				"hello-dev/usr/include/foo.h", "hello-dev/usr/include/foo/bar.h",
				"hello-dev/usr/lib/cmake/Foo/FooConfig.cmake", "hello-dev/usr/lib/foo/crt.o", "hello-dev/usr/lib/libfoo.a",
				"hello-dev/usr/lib/libfoo.so -> libfoo.so.1", "hello-dev/usr/lib/pkgconfig/foo.pc",
				"hello-dev/usr/lib/qt6/mkspecs/linux/qmake.conf",
				"hello-dev/usr/share/aclocal/foo.m4", "hello-dev/usr/share/gir-1.0/Foo.gir", "hello-dev/usr/share/vala/vapi/foo.vapi",
				"hello/lib/libbar.so.2",
				// Only the directory a moved path was in is removed when
				// emptied, not its parents.
				"hello/opt/",
				"hello/usr/bin/foo", "hello/usr/lib/libfoo.so.1",
				"hello/usr/share/man/man1/foo.1", "hello/usr/share/vala/other",
			},
		},
		{
			name:     "dev with another prefix",
			sections: sub("hello-dev", "      - uses: split/dev\n        with:\n          prefix: /opt/app/\n"),
			files: []string{
				"hello/opt/app/include/a.h", "hello/opt/app/lib/libx.a", "hello/opt/app/lib/libx.so -> libx.so.1",
				"hello/opt/app/lib/libx.so.1", "hello/opt/app/bin/x-config",
				// Include directories are moved wherever they are.
				"hello/usr/include/other.h",
				// Outside the prefix, libraries stay.
				"hello/usr/lib/liby.a", "hello/usr/lib/liby.so -> liby.so.1",
			},
			want: []string{
				"hello-dev/opt/app/bin/x-config", "hello-dev/opt/app/include/a.h", "hello-dev/opt/app/lib/libx.a",
				"hello-dev/opt/app/lib/libx.so -> libx.so.1", "hello-dev/usr/include/other.h",
				"hello/opt/app/lib/libx.so.1", "hello/usr/lib/liby.a", "hello/usr/lib/liby.so -> liby.so.1",
			},
		},
		{
			name: "dev from another subpackage",
			sections: "subpackages:\n  - name: hello-libs\n    pipeline:\n      - runs: \"true\"\n" +
				"  - name: hello-libs-dev\n    pipeline:\n      - uses: split/dev\n        with:\n          package: hello-libs\n",
			files: []string{"hello/usr/include/main.h", "hello-libs/usr/include/libs.h", "hello-libs/usr/lib/libz.so.1"},
			want:  []string{"hello-libs-dev/usr/include/libs.h", "hello-libs/usr/lib/libz.so.1", "hello/usr/include/main.h"},
		},
		{
			name:     "dev of a package with no files",
			sections: sub("hello-dev", "      - uses: split/dev\n"),
		},
		{
			name:     "dev from itself",
			sections: "pipeline:\n  - uses: split/dev\n",
			files:    []string{"hello/usr/include/a.h"},
			want:     []string{"hello/usr/include/a.h"},
			err:      "would split files from itself",
		},
		{
			name:     "static",
			sections: sub("hello-static", "      - uses: split/static\n"),
			files: []string{"hello/usr/lib/libfoo.a", "hello/usr/lib/libfoo.so.1", "hello/usr/lib/sub/libsub.a",
				"hello/lib/libbar.a", "hello/usr/include/foo.h"},
			want: []string{"hello-static/lib/libbar.a", "hello-static/usr/lib/libfoo.a", "hello-static/usr/lib/sub/libsub.a",
				"hello/usr/include/foo.h", "hello/usr/lib/libfoo.so.1"},
		},
		{
			name:     "static from another package",
			sections: sub("hello-dev", "      - runs: \"true\"\n") + "  - name: hello-static\n    pipeline:\n      - uses: split/static\n        with:\n          package: hello-dev\n",
			files:    []string{"hello/usr/lib/libmain.a", "hello-dev/usr/lib/libdev.a"},
			want:     []string{"hello-dev/usr/", "hello-static/usr/lib/libdev.a", "hello/usr/lib/libmain.a"},
		},
		{
			name:     "manpages",
			sections: sub("hello-doc", "      - uses: split/manpages\n"),
			files:    []string{"hello/usr/share/man/man1/a.1", "hello/usr/man/man8/b.8", "hello/usr/local/share/man/man5/c.5", "hello/usr/bin/a"},
			// The emptied directories go, up to the package.
			want: []string{"hello-doc/usr/share/man/man1/a.1", "hello-doc/usr/share/man/man5/c.5", "hello-doc/usr/share/man/man8/b.8", "hello/usr/bin/a"},
		},
		{
			name:     "manpages, nothing left",
			sections: sub("hello-doc", "      - uses: split/manpages\n"),
			files:    []string{"hello/usr/share/man/man1/a.1"},
			want:     []string{"hello-doc/usr/share/man/man1/a.1", "hello/"},
		},
		{
			name:     "infodir",
			sections: sub("hello-info", "      - uses: split/infodir\n"),
			files:    []string{"hello/usr/share/info/a.info", "hello/usr/share/info/dir", "hello/usr/share/x"},
			want:     []string{"hello-info/usr/share/info/a.info", "hello/usr/share/x"},
		},
		{
			name:     "locales",
			sections: sub("hello-lang", "      - uses: split/locales\n"),
			files:    []string{"hello/usr/share/locale/de/LC_MESSAGES/hello.mo", "hello/usr/bin/hello"},
			want:     []string{"hello-lang/usr/share/locale/de/LC_MESSAGES/hello.mo", "hello/usr/bin/hello", "hello/usr/share/"},
		},
		{
			name:     "alldocs",
			sections: sub("hello-doc", "      - uses: split/alldocs\n"),
			files: []string{"hello/usr/share/info/a.info", "hello/usr/share/info/dir", "hello/usr/share/man/man1/a.1",
				"hello/usr/share/doc/hello/README", "hello/usr/local/share/doc/extra/NOTES", "hello/usr/bin/a"},
			want: []string{"hello-doc/usr/share/doc/extra/NOTES", "hello-doc/usr/share/doc/hello/README", "hello-doc/usr/share/info/a.info",
				"hello-doc/usr/share/man/man1/a.1", "hello/usr/bin/a"},
		},
		{
			name:     "bin, from the package named without -bin",
			sections: sub("hello-bin", "      - uses: split/bin\n"),
			files:    []string{"hello/usr/bin/a", "hello/usr/bin/b -> a", "hello/usr/lib/empty/", "hello/usr/lib/libx.so.1"},
			want:     []string{"hello-bin/usr/bin/a", "hello-bin/usr/bin/b -> a", "hello/usr/lib/libx.so.1"},
		},
		{
			name:     "bin, from the main package",
			sections: sub("tools", "      - uses: split/bin\n"),
			files:    []string{"hello/usr/bin/a", "hello/usr/share/a/"},
			// Every emptied directory under usr goes, not usr itself.
			want: []string{"hello/usr/", "tools/usr/bin/a"},
		},
		{
			name:     "bin without /usr/bin",
			sections: sub("hello-bin", "      - uses: split/bin\n"),
			files:    []string{"hello/usr/lib/a"},
			want:     []string{"hello/usr/lib/a"},
			err:      "usr/bin is not a directory",
		},
		{
			name:     "lib",
			sections: sub("hello-libs", "      - uses: split/lib\n"),
			files: []string{"hello/usr/lib/libssl.so.3", "hello/usr/lib/libssl.so -> libssl.so.3", "hello/usr/lib/libcrypto.so.3.1 -> libcrypto.so.3",
				"hello/usr/lib/libcrypto.so.3", "hello/usr/lib/engines/e.so.1", "hello/lib/libc.so.6", "hello/usr/bin/openssl"},
			want: []string{"hello-libs/lib/libc.so.6", "hello-libs/usr/lib/libcrypto.so.3", "hello-libs/usr/lib/libcrypto.so.3.1 -> libcrypto.so.3",
				"hello-libs/usr/lib/libssl.so.3", "hello/usr/bin/openssl", "hello/usr/lib/engines/e.so.1", "hello/usr/lib/libssl.so -> libssl.so.3"},
		},
		{
			name:     "lib with patterns and paths",
			sections: sub("libssl3", "      - uses: split/lib\n        with:\n          patterns: |\n            ssl\n\n            sasl2\n          paths: |\n            usr/lib/sasl2\n            does/not/exist\n"),
			files: []string{"hello/usr/lib/libssl.so.3", "hello/usr/lib/libcrypto.so.3", "hello/usr/lib/sasl2/libsasl2.so.2",
				"hello/usr/lib/sasl2/libplain.so.3", "hello/lib/libsasl2.so.2 -> ../usr/lib/sasl2/libsasl2.so.2"},
			want: []string{"hello/usr/lib/libcrypto.so.3", "hello/usr/lib/sasl2/libplain.so.3",
				"libssl3/lib/libsasl2.so.2 -> ../usr/lib/sasl2/libsasl2.so.2", "libssl3/usr/lib/libssl.so.3", "libssl3/usr/lib/sasl2/libsasl2.so.2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.files(melange.OutDir, tt.files...)
			_, err := s.run(steps(compile(t, doc(tt.sections))))
			if testkit.ErrorCase(t, err, tt.err) && tt.err == "" {
				return
			}
			if got := s.tree(melange.OutDir); !slices.Equal(got, tt.want) {
				t.Errorf("melange-out:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}
