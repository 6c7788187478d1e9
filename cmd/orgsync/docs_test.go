package main

import (
	"encoding"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The docs pages are contracts; these tests keep them and the code in step,
// both ways: everything the code has is documented, and nothing is
// documented that the code does not have.

// docSections splits a markdown page into its level-2 and level-3
// sections, keyed by the first `code span` of the heading; "" is the
// "Top level" section, and a heading without a code span is keyed by its
// whole line.
func docSections(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile("^#{2,3} (?:[^`]*`([^`]+)`)?")
	out := map[string]string{}
	key, inSection := "", false
	for _, line := range strings.Split(string(b), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			key, inSection = m[1], true
			switch {
			case strings.HasPrefix(line, "## Top level"):
				key = ""
			case key == "":
				key = "#" + line // prose: never a command or a config block
			}
			if _, dup := out[key]; dup && key != "" {
				t.Errorf("%s: two sections for %q", path, key)
			}
			continue
		}
		if inSection {
			out[key] += line + "\n"
		}
	}
	return out
}

// tableKeys returns the first-column code spans of the table rows of a
// section: "| `--force` | …" gives "--force".
func tableKeys(section string) []string {
	row := regexp.MustCompile("(?m)^\\| `([^`]+)`")
	var out []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// cliCommands lists every runnable command of the CLI by its path without
// the leading "orgsync ", with its own flags.
func cliCommands() map[string][]string {
	out := map[string][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.HasParent() {
			path := strings.TrimPrefix(c.CommandPath(), "orgsync ")
			var flags []string
			c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) { flags = append(flags, "--"+f.Name) })
			out[path] = flags
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk((&app{}).rootCommand())
	return out
}

func TestDocsCLICoversEveryCommandAndFlag(t *testing.T) {
	secs := docSections(t, "../../docs/cli.md")
	cmds := cliCommands()
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands: %v", len(cmds), cmds)
	}
	documented := map[string]bool{}
	for key, body := range secs {
		path, ok := strings.CutPrefix(key, "orgsync ")
		if !ok {
			continue
		}
		// "tokens revoke ID" documents the command "tokens revoke".
		fields := strings.Fields(path)
		for len(fields) > 0 && strings.ToUpper(fields[len(fields)-1]) == fields[len(fields)-1] {
			fields = fields[:len(fields)-1]
		}
		path = strings.Join(fields, " ")
		flags, exists := cmds[path]
		if !exists {
			t.Errorf("docs/cli.md documents `orgsync %s`, which is not a command", path)
			continue
		}
		documented[path] = true
		for _, f := range flags {
			if !strings.Contains(body, "`"+f) {
				t.Errorf("docs/cli.md: section `orgsync %s` does not mention its flag %s", path, f)
			}
		}
		for _, k := range tableKeys(body) {
			name, _, _ := strings.Cut(k, " ")
			if strings.HasPrefix(name, "--") && !slices.Contains(flags, name) {
				t.Errorf("docs/cli.md: section `orgsync %s` documents %s, which the command does not have", path, name)
			}
		}
	}
	for path := range cmds {
		if !documented[path] {
			t.Errorf("docs/cli.md has no section for `orgsync %s`", path)
		}
	}
	all := strings.Join(slices.Collect(mapValues(secs)), "")
	if !strings.Contains(all, "`--config FILE`") {
		t.Error("docs/cli.md does not document the global --config flag")
	}
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// configKeys lists every key the config decodes, as dotted paths with "[]"
// for list elements ("sources[].ldap.user.base_dn"), and marks in blocks the
// keys that hold a map of keys or a list of them. Map-valued keys
// (role_map) are leaves. config.example.yaml is decoded strictly into the
// same type (TestExampleConfigIsValid), so its keys are among these.
func configKeys(t reflect.Type, prefix string, out *[]string, blocks map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		path := joinKey(prefix, name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case isText(ft) || ft.Kind() == reflect.Slice && isText(ft.Elem()):
			*out = append(*out, path) // a value written as text (trusted_proxies)
		case ft.Kind() == reflect.Struct:
			*out = append(*out, path)
			blocks[path] = true
			configKeys(ft, path, out, blocks)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			*out = append(*out, path)
			blocks[path] = true
			configKeys(ft.Elem(), path+"[]", out, blocks)
		default:
			*out = append(*out, path)
		}
	}
}

// isText says whether values of t are written as text (UnmarshalText).
func isText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func TestDocsConfigCoversEveryKey(t *testing.T) {
	secs := docSections(t, "../../docs/config.md")
	var keys []string
	blocks := map[string]bool{}
	configKeys(reflect.TypeFor[Config](), "", &keys, blocks)
	if len(keys) < 80 {
		t.Fatalf("found only %d config keys", len(keys))
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	// A key is documented as a table row of the section of its longest
	// documented parent: database.dsn in `database`, sources[].ldap.user.base_dn
	// as user.base_dn in `sources[].ldap`, top-level keys in "Top level".
	rows := map[string]map[string]bool{}
	for sec, body := range secs {
		rows[sec] = map[string]bool{}
		for _, k := range tableKeys(body) {
			rows[sec][k] = true
			full := joinKey(sec, k)
			if !known[full] {
				t.Errorf("docs/config.md: section %q documents %q, which is not a config key", sec, full)
			}
		}
	}
	for _, k := range keys {
		sec, rest := "", k
		for p := k; p != ""; {
			i := strings.LastIndex(p, ".")
			if i < 0 {
				break
			}
			p = p[:i]
			if _, ok := secs[p]; ok {
				sec, rest = p, k[len(p)+1:]
				break
			}
		}
		_, ownSection := secs[k]
		_, ownListSection := secs[k+"[]"]
		if blocks[k] && !ownSection && !ownListSection {
			continue // ldap.user: its keys are rows (user.base_dn), it is none
		}
		if !rows[sec][rest] {
			t.Errorf("docs/config.md: key %s is not documented (want a row `%s` in section %q)", k, rest, sec)
		}
	}
}
