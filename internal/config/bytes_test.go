package config

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "33554432", want: 32 << 20},
		{in: "32MiB", want: 32 << 20},
		{in: "32M", want: 32 << 20},
		{in: "32mb", want: 32 << 20},
		{in: " 32 MiB ", want: 32 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "1g", want: 1 << 30},
		{in: "512K", want: 512 << 10},
		{in: "2TiB", want: 2 << 40},
		{in: "100B", want: 100},
		{in: "0", want: 0},
		{in: "-1", want: -1},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "8388608TiB", wantErr: true}, // overflows int64
		{in: "", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "32 MiBs", wantErr: true},
		{in: "1.5GiB", wantErr: true},
		{in: "32PiB", wantErr: true},
		{in: "0x20", wantErr: true},
		{in: "-", wantErr: true},
	} {
		got, err := ParseBytes(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// Every size reads back from what String writes.
func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"32MiB", "33554432", "1g", "-1", "7 kb", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			return
		}
		back, err := ParseBytes(Bytes(n).String())
		if err != nil || back != n {
			t.Fatalf("%q = %d, written %q, read back %d (%v)", s, n, Bytes(n).String(), back, err)
		}
	})
}

func TestBytesString(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1: "1B", 1024: "1KiB", 32 << 20: "32MiB", 3 << 29: "1536MiB", 1<<20 + 1: "1048577B", math.MaxInt64: strconv.FormatInt(math.MaxInt64, 10) + "B"} {
		if got := Bytes(n).String(); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// memory-limit takes an integer or a string with a unit, and Validate
// holds it above the least a resolver runs in, with room beside the cache.
func TestResolverMemoryLimit(t *testing.T) {
	listen := "listen = [\"127.0.0.1:53\"]\n"
	for _, tc := range []struct {
		toml    string
		want    Bytes
		wantErr string
	}{
		{toml: "memory-limit = 33554432", want: 32 << 20},
		{toml: "memory-limit = \"32MiB\"", want: 32 << 20},
		{toml: "memory-limit = -1", want: -1},
		{toml: "memory-limit = \"8MiB\"", wantErr: "below the least"},
		{toml: "memory-limit = \"32 apples\"", wantErr: "unknown unit"},
		{toml: "memory-limit = 3.5", wantErr: "want a size"},
		{toml: "memory-limit = \"32MiB\"\n[cache]\nmax-bytes = 20000000", wantErr: "more than half"},
		{toml: "memory-limit = \"64MiB\"\n[cache]\nmax-bytes = 20000000", want: 64 << 20},
	} {
		var c Resolver
		err := decodeStrict([]byte(listen+tc.toml), "test", &c)
		if err == nil {
			err = c.Validate()
		}
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: err %v, want %q", tc.toml, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || c.MemoryLimit != tc.want):
			t.Errorf("%q: %v, %v; want %v", tc.toml, c.MemoryLimit, err, tc.want)
		}
	}
}
