package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// duplicateKeys returns the keys a JSON object line repeats.
func duplicateKeys(line string) []string {
	dec := json.NewDecoder(strings.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen, dups := map[string]bool{}, []string(nil)
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return dups
		}
		key := k.(string)
		if seen[key] {
			dups = append(dups, key)
		}
		seen[key] = true
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return dups
		}
	}
	return dups
}

func TestDuplicateKeys(t *testing.T) {
	if d := duplicateKeys(`{"a":1,"b":{"a":2},"a":3}`); len(d) != 1 || d[0] != "a" {
		t.Fatalf("duplicateKeys = %v", d)
	}
	if d := duplicateKeys(`{"a":1,"b":2}`); d != nil {
		t.Fatalf("duplicateKeys = %v", d)
	}
}

// TestJSONLogLinesHaveNoRepeatedKeys reads a real directory with JSON logs
// at debug level: no line repeats a key (a consumer keeps only one of
// them), and durations carry their unit.
func TestJSONLogLinesHaveNoRepeatedKeys(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(body), "level: error", "level: debug", 1)), 0o600)
	code, _, errOut := cli(t, cfg, "reconcile", "--format", "json")
	if code != 0 {
		t.Fatalf("reconcile: %d\n%s", code, errOut)
	}
	lines, took := 0, false
	for _, l := range strings.Split(errOut, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		lines++
		if d := duplicateKeys(l); len(d) > 0 {
			t.Errorf("a log line repeats %v: %s", d, l)
		}
		var v map[string]any
		if json.Unmarshal([]byte(l), &v) == nil && v["took"] != nil {
			s, ok := v["took"].(string)
			took = ok && (strings.HasSuffix(s, "s"))
			if !took {
				t.Errorf("took without a unit: %s", l)
			}
		}
	}
	if lines == 0 || !took {
		t.Fatalf("%d JSON log lines, a duration among them: %v\n%s", lines, took, errOut)
	}
}
