package yamlconf

import (
	"cmp"
	"encoding"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/orgsync/orgsync"
)

// Error is every problem of a file, each starting with "line N: ".
type Error struct {
	Problems []string
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Secret is a secret-typed key of the file.
type Secret struct {
	Path string // the key path, as sources[0].ldap.bind_password
	Key  string // the key itself, as bind_password
	Line int
}

// Unset is a secret whose ${VAR} names a variable that is not set.
type Unset struct {
	Secret
	Vars []string
}

// Problem says what is missing, the way Decode would have said it.
func (u Unset) Problem() string {
	if len(u.Vars) == 1 {
		return fmt.Sprintf("line %d: environment variable %s is not set (%s)", u.Line, u.Vars[0], u.Path)
	}
	return fmt.Sprintf("line %d: environment variables %s are not set (%s)", u.Line, strings.Join(u.Vars, ", "), u.Path)
}

// Result is what Decode learnt of the file's secrets.
type Result struct {
	// Inline are the secrets written in the file itself.
	Inline []Secret
	// Unset are the secrets left empty for want of their variables.
	Unset []Unset
}

// envRef matches ${VAR}. Before parsing, each is replaced by a marker that
// is a plain YAML scalar anywhere (`${X}` is not, inside {flow, maps}),
// then markers are expanded in the parsed values.
var (
	envRef    = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	envMarker = regexp.MustCompile(`__orgsyncenv_([0-9a-f]+)__`)
)

func markEnv(data []byte) []byte {
	return envRef.ReplaceAllFunc(data, func(ref []byte) []byte {
		return []byte("__orgsyncenv_" + hex.EncodeToString(ref[2:len(ref)-1]) + "__")
	})
}

// Decode reads data into the struct into points to (see the package doc).
func Decode(data []byte, into any) (Result, error) {
	t := reflect.TypeOf(into)
	if t == nil || t.Kind() != reflect.Pointer {
		return Result{}, fmt.Errorf("yamlconf: decode into %T: want a pointer", into)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(markEnv(data), &root); err != nil {
		return Result{}, err
	}
	d := decoder{seen: map[typedNode]bool{}, env: map[*yaml.Node]nodeEnv{}}
	d.expand(&root)
	d.check(&root, t.Elem(), "")
	d.leftUnset()
	// Decoding the tree itself, not a re-encoding of it, keeps the file's
	// line numbers in the type errors.
	if err := root.Decode(into); err != nil {
		te, ok := err.(*yaml.TypeError)
		if !ok {
			return Result{}, err
		}
		d.problems = append(d.problems, te.Errors...)
	}
	if len(d.problems) == 0 {
		return d.res, nil
	}
	slices.SortStableFunc(d.problems, func(a, b string) int { return cmp.Compare(lineOf(a), lineOf(b)) })
	return d.res, &Error{Problems: d.problems}
}

// lineOf reads the N of "line N: …"; 0 when there is none.
func lineOf(problem string) int {
	rest, ok := strings.CutPrefix(problem, "line ")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest[:strings.IndexFunc(rest+":", func(r rune) bool { return r < '0' || r > '9' })])
	return n
}

// decoder walks the YAML tree alongside the types it decodes into.
type decoder struct {
	problems []string
	res      Result
	// seen holds the nodes already checked as a type: an anchor used
	// twice is checked once, and one that merges into itself ends.
	seen map[typedNode]bool
	// env holds the scalars that had ${VAR} in them.
	env map[*yaml.Node]nodeEnv
}

type typedNode struct {
	n *yaml.Node
	t reflect.Type
}

type nodeEnv struct {
	// raw is the value as written, ${VAR} and all: problems show it, never
	// what the environment put there.
	raw   string
	unset []string
	// claimed: a secret took the unset variables as its own.
	claimed bool
}

// expand replaces every ${VAR} marker with the variable's value. An unset
// variable expands to nothing, so that the rest of the file is still
// checked; whether it is a problem depends on the field (see check).
func (d *decoder) expand(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && envMarker.MatchString(n.Value) {
		e := nodeEnv{raw: envMarker.ReplaceAllStringFunc(n.Value, func(ref string) string {
			raw, _ := hex.DecodeString(envMarker.FindStringSubmatch(ref)[1])
			return "${" + string(raw) + "}"
		})}
		n.Value = envMarker.ReplaceAllStringFunc(n.Value, func(ref string) string {
			raw, _ := hex.DecodeString(envMarker.FindStringSubmatch(ref)[1])
			v, ok := os.LookupEnv(string(raw))
			if !ok {
				e.unset = append(e.unset, string(raw))
			}
			return v
		})
		d.env[n] = e
		// Type the expanded value as if it had been written inline. A value
		// that was only unset variables reads as no value at all, so that the
		// defaults apply and the unset variable is its only problem.
		if n.Style == 0 || (len(e.unset) > 0 && n.Value == "") {
			n.Tag, n.Style = "", 0
		}
	}
	for _, c := range n.Content {
		d.expand(c)
	}
}

// written is n as the file writes it, ${VAR} and all: problems show it,
// never what the environment put there (it may be a secret in the wrong
// place).
func (d *decoder) written(n *yaml.Node) *yaml.Node {
	e, ok := d.env[n]
	if !ok {
		return n
	}
	w := *n
	w.Value = e.raw
	return &w
}

// leftUnset reports the unset variables no secret claimed.
func (d *decoder) leftUnset() {
	var nodes []*yaml.Node
	for n, e := range d.env {
		if !e.claimed && len(e.unset) > 0 {
			nodes = append(nodes, n)
		}
	}
	slices.SortFunc(nodes, func(a, b *yaml.Node) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	for _, n := range nodes {
		for _, v := range d.env[n].unset {
			d.problems = append(d.problems, fmt.Sprintf("line %d: environment variable %s is not set", n.Line, v))
		}
	}
}

var (
	secretType    = reflect.TypeFor[orgsync.Secret]()
	unmarshalerTy = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) check(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if d.seen[typedNode{n, t}] {
		return
	}
	d.seen[typedNode{n, t}] = true
	switch {
	case n.Kind == yaml.DocumentNode:
		for _, c := range n.Content {
			d.check(c, t, path)
		}
	case t == secretType && n.Kind == yaml.ScalarNode:
		d.secret(n, path)
	case n.Kind == yaml.ScalarNode && reflect.PointerTo(t).Implements(unmarshalerTy):
		d.text(n, t, path)
	case reflect.PointerTo(t).Implements(unmarshalerTy):
		d.fit(n, t, path)
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		d.fields(n, t, path)
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			d.check(n.Content[i], t.Elem(), joinKey(path, n.Content[i-1].Value))
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, e := range n.Content {
			d.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		d.fit(n, t, path)
	}
}

// fit decodes a value that is not a struct, map or slice walked above (a
// number, a boolean, or a value of the wrong kind) on its own, so that a
// mistyped value is reported with its key; then the value is cleared, for
// the decoder to see it as unset.
func (d *decoder) fit(n *yaml.Node, t reflect.Type, path string) {
	if t.Kind() == reflect.Interface || n.ShortTag() == "!!null" {
		return
	}
	te, ok := n.Decode(reflect.New(t).Interface()).(*yaml.TypeError)
	if !ok {
		return
	}
	if w := d.written(n); w != n {
		// Say it of the value as written.
		if wte, ok := w.Decode(reflect.New(t).Interface()).(*yaml.TypeError); ok {
			te = wte
		} else {
			te = &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a %s once expanded", n.Line, w.Value, t)}}
		}
	}
	for _, e := range te.Errors {
		if line, rest, ok := strings.Cut(e, ": "); ok && path != "" {
			e = line + ": " + path + ": " + rest
		}
		d.problems = append(d.problems, e)
	}
	n.Kind, n.Tag, n.Value, n.Style, n.Content = yaml.ScalarNode, "!!null", "", 0, nil
}

// secret records a secret written inline or left unset.
func (d *decoder) secret(n *yaml.Node, path string) {
	s := Secret{Path: path, Key: path[strings.LastIndexAny(path, ".]")+1:], Line: n.Line}
	e, fromEnv := d.env[n]
	switch {
	case len(e.unset) > 0:
		e.claimed = true
		d.env[n] = e
		d.res.Unset = append(d.res.Unset, Unset{Secret: s, Vars: e.unset})
		n.Value, n.Tag, n.Style = "", "!!null", 0
	case !fromEnv && n.Value != "" && n.ShortTag() != "!!null":
		d.res.Inline = append(d.res.Inline, s)
	}
}

// text checks a value against its type's UnmarshalText. Its error stops
// yaml.v3 on the spot, so each is reported here with its line and key, then
// the value is cleared: the decoder sees it as unset and goes on.
func (d *decoder) text(n *yaml.Node, t reflect.Type, path string) {
	if n.ShortTag() == "!!null" {
		return
	}
	u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		if w := d.written(n); w != n {
			// Say it of the value as written.
			err = reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(w.Value))
			if err == nil {
				err = fmt.Errorf("%q does not parse once expanded", w.Value)
			}
		}
		d.problems = append(d.problems, fmt.Sprintf("line %d: %s: %v", n.Line, path, err))
		n.Value, n.Tag, n.Style = "", "!!null", 0
	}
}

func (d *decoder) fields(n *yaml.Node, t reflect.Type, path string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		switch ft, ok := fieldType(t, k.Value); {
		case k.Kind != yaml.ScalarNode:
			// not a name: the decoder reports it
		case k.ShortTag() == "!!merge":
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				d.check(m, t, path)
			}
		case !ok:
			d.problems = append(d.problems, fmt.Sprintf("line %d: field %s not found in type %s", k.Line, d.written(k).Value, t))
		default:
			d.check(v, ft, joinKey(path, k.Value))
		}
	}
}

// fieldType is the type of the field of struct t that key decodes into,
// named as yaml.v3 names it: the tag's name, else the lower-cased field
// name, looking into ",inline" structs.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() || name == "-":
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			if ft, ok := fieldType(f.Type, key); ok {
				return ft, true
			}
		case name == key || (name == "" && strings.ToLower(f.Name) == key):
			return f.Type, true
		}
	}
	return nil, false
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
