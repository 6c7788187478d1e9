package yamlconf

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/orgsync/orgsync"
)

var update = flag.Bool("update", false, "rewrite the golden files")

type testConfig struct {
	Name   string            `yaml:"name"`
	Count  int               `yaml:"count"`
	Wait   orgsync.Duration  `yaml:"wait"`
	Token  orgsync.Secret    `yaml:"token"`
	Addrs  []netip.Addr      `yaml:"addrs"`
	Inner  *inner            `yaml:"inner"`
	Items  []inner           `yaml:"items"`
	Labels map[string]string `yaml:"labels"`
	Shared `yaml:",inline"`
}

type inner struct {
	Password orgsync.Secret   `yaml:"password"`
	Limit    int              `yaml:"limit"`
	Timeout  orgsync.Duration `yaml:"timeout"`
}

type Shared struct {
	Owner string `yaml:"owner"`
}

// TestGolden decodes each testdata/*.yaml into testConfig and compares
// what Decode says (problems, secrets, the value decoded) with the .golden
// file beside it. go test -update rewrites them.
func TestGolden(t *testing.T) {
	t.Setenv("YAMLCONF_TEST_TOKEN", "env-token-SECRET-1")
	t.Setenv("YAMLCONF_TEST_WAIT", "90s")
	t.Setenv("YAMLCONF_TEST_COUNT", "7")
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if len(files) < 6 {
		t.Fatalf("%d cases in testdata", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := describe(data)
			if strings.Contains(got, "SECRET") {
				t.Errorf("a secret's value is in the output:\n%s", got)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// describe renders what Decode returns for data.
func describe(data []byte) string {
	var c testConfig
	res, err := Decode(data, &c)
	var b strings.Builder
	var ye *Error
	switch {
	case errors.As(err, &ye):
		b.WriteString("problems:\n")
		for _, p := range ye.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	case err != nil:
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	default:
		b.WriteString("problems: none\n")
	}
	for _, s := range res.Inline {
		fmt.Fprintf(&b, "inline secret: %s (key %s, line %d)\n", s.Path, s.Key, s.Line)
	}
	for _, u := range res.Unset {
		fmt.Fprintf(&b, "unset secret: %s\n", u.Problem())
	}
	out, _ := yaml.Marshal(&c)
	fmt.Fprintf(&b, "decoded:\n%s", out)
	return b.String()
}

func TestDecodeWantsPointer(t *testing.T) {
	if _, err := Decode([]byte("name: x\n"), testConfig{}); err == nil {
		t.Fatal("decoding into a value was accepted")
	}
}

// The secret's variable is unset: the field is empty, and the value that
// was around the reference is not kept either.
func TestUnsetSecretIsEmpty(t *testing.T) {
	var c testConfig
	res, err := Decode([]byte("token: prefix-${YAMLCONF_TEST_SURELY_UNSET}\ninner: {password: ${YAMLCONF_TEST_SURELY_UNSET}}\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != "" || c.Inner == nil || c.Inner.Password != "" {
		t.Fatalf("decoded %#v %#v", c.Token.Reveal(), c.Inner)
	}
	if len(res.Unset) != 2 || res.Unset[0].Path != "token" || res.Unset[1].Path != "inner.password" || res.Unset[1].Key != "password" {
		t.Fatalf("unset = %+v", res.Unset)
	}
}
