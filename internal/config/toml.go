package config

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// maxConfigBytes bounds a configuration file: real ones are a few KiB, and
// a mistaken path (a zone file, a log) should fail fast, not be slurped.
const maxConfigBytes = 1 << 20

// loadFile reads a TOML file into v on top of what v holds.
func loadFile(path string, v any) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if st.Size() > maxConfigBytes {
		return fmt.Errorf("config %s: larger than %d bytes", path, maxConfigBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return decodeStrict(b, path, v)
}

// decodeStrict decodes TOML and rejects keys v has no field for: a typo in
// an option must be an error, not a silently ignored setting.
func decodeStrict(b []byte, path string, v any) error {
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(v)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return nil
}
