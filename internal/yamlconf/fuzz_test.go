package yamlconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode: no input panics Decode, every problem starts with its line,
// and an environment secret never shows in a problem.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("inner: &a {password: ${YAMLCONF_FUZZ_SECRET}}\nitems: [*a, {<<: *a, limit: x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		t.Setenv("YAMLCONF_FUZZ_SECRET", "fuzz-SECRET-value-91")
		var c testConfig
		_, err := Decode(data, &c)
		e, ok := err.(*Error)
		if !ok {
			return
		}
		for _, p := range e.Problems {
			if !strings.HasPrefix(p, "line ") {
				t.Errorf("problem without its line: %q", p)
			}
			if strings.Contains(p, "fuzz-SECRET-value-91") && !strings.Contains(string(data), "fuzz-SECRET-value-91") {
				t.Errorf("a secret from the environment is in a problem: %q", p)
			}
		}
	})
}
