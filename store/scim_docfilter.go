package store

import (
	"regexp"
	"strings"

	"github.com/orgsync/orgsync"
)

// Filters on document attributes (orgsync.AttrDocument) read the JSON of
// members.doc: json_extract and json_each on SQLite, #>> and
// jsonb_array_elements on PostgreSQL. Path keys come from the receiver's
// schema, never from a client, and are checked against docKey before they
// are written into the SQL text; values are parameters as everywhere.

var docKey = regexp.MustCompile(`^[A-Za-z$][A-Za-z0-9_$:.\-]*$`)

func checkPath(path []string) error {
	if len(path) == 0 {
		return invalidf("a document attribute needs a path")
	}
	for _, k := range path {
		if !docKey.MatchString(k) {
			return invalidf("unsupported document attribute %q", k)
		}
	}
	return nil
}

// docText is the text at path of the JSON value base (NULL when absent).
func (t *sqlFilter) docText(base string, path []string) string {
	if t.pg {
		return "(" + base + " #>> '{" + quoteKeys(path, `"`, ",") + "}')"
	}
	return "json_extract(" + base + ", '$." + quoteKeys(path, `"`, ".") + "')"
}

func quoteKeys(path []string, q, sep string) string {
	parts := make([]string, len(path))
	for i, k := range path {
		parts[i] = q + k + q
	}
	return strings.Join(parts, sep)
}

// docNode translates a comparison of a document attribute relative to
// base ("m.doc", or an element of a FilterAny).
func (t *sqlFilter) docNode(base string, f *orgsync.Filter) error {
	if err := checkPath(f.Path); err != nil {
		return err
	}
	raw := t.docText(base, f.Path)
	if f.Op == orgsync.FilterPresent {
		t.b.WriteString("(" + raw + " IS NOT NULL AND " + raw + " <> '')")
		return nil
	}
	if _, ok := f.Value.(bool); ok {
		truth := raw + " = 1"
		if t.pg {
			truth = raw + " = 'true'"
		}
		return t.compareBool(column{expr: "COALESCE(" + truth + ", FALSE)", kind: kindBool}, f)
	}
	kind := kindLower
	if f.CaseExact {
		kind = kindExact
	}
	return t.compare(column{expr: "COALESCE(" + raw + ", '')", kind: kind}, f)
}

// docAny translates FilterAny over the array at f.Path of the document.
func (t *sqlFilter) docAny(f *orgsync.Filter) error {
	if err := checkPath(f.Path); err != nil {
		return err
	}
	if len(f.Children) != 1 {
		return invalidf("any needs one operand")
	}
	if t.pg {
		at := docOf + " #> '{" + quoteKeys(f.Path, `"`, ",") + "}'"
		t.b.WriteString("EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(" + at + ") = 'array' THEN " + at +
			" ELSE '[]'::jsonb END) AS j(v) WHERE ")
		t.elem = "j.v"
	} else {
		t.b.WriteString("EXISTS (SELECT 1 FROM json_each(" + docOf + ", '$." + quoteKeys(f.Path, `"`, ".") + "') AS j WHERE ")
		t.elem = "j.value"
	}
	defer func() { t.elem = "" }()
	if err := t.node(&f.Children[0], nil); err != nil {
		return err
	}
	t.b.WriteString(")")
	return nil
}
