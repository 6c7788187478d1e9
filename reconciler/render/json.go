package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// FormatVersion is the version of the JSON report, its top-level
// "format_version" (docs/formats.md). Within a version changes are
// additive: new keys, never renames.
const FormatVersion = 1

// The JSON shape is the CLI contract of `plan --format json` (see
// docs/formats.md); fields beyond it are additions, never renames.
type jsonDoc struct {
	FormatVersion int                 `json:"format_version"`
	Runs          []jsonRun           `json:"runs"`
	Orphans       []reconciler.Orphan `json:"orphans,omitempty"`
}

type jsonRun struct {
	Org            string             `json:"org"`
	Source         string             `json:"source"`
	Target         string             `json:"target,omitempty"`
	Summary        map[string]int     `json:"summary"`
	Changes        []jsonChange       `json:"changes"`
	Conflicts      []orgsync.Conflict `json:"conflicts,omitempty"`
	Held           orgsync.HeldCount  `json:"held"`
	Read           int                `json:"users_read"`
	Disabled       int                `json:"users_disabled_at_source"`
	Warnings       []string           `json:"warnings,omitempty"`
	Guard          jsonGuard          `json:"guard"`
	Applied        bool               `json:"applied"`
	DryRun         bool               `json:"dry_run"`
	AppliedSummary map[string]int     `json:"applied_summary,omitempty"`
	Skipped        []string           `json:"skipped,omitempty"`
	PendingSetup   *jsonPending       `json:"pending_setup,omitempty"`
	RunID          int64              `json:"run_id,omitempty"`
	Error          string             `json:"error,omitempty"`
}

type jsonGuard struct {
	Blocked bool   `json:"blocked"`
	Reason  string `json:"reason"`
	Forced  bool   `json:"forced,omitempty"`
	Empty   bool   `json:"empty,omitempty"`
}

type jsonChange struct {
	Action   string `json:"action"`
	UserName string `json:"user_name,omitempty"`
	Group    string `json:"group,omitempty"`
	// Fields is present (possibly {}) on member changes, absent on group
	// and membership changes.
	Fields any    `json:"fields,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Status is the status a reactivation sets.
	Status string `json:"status,omitempty"`
}

type jsonPending struct {
	Count       int      `json:"count"`
	Members     []string `json:"members"`
	Provisioned []string `json:"provisioned"`
}

// indent is one level of the report's layout.
const indent = "  "

// writeJSON writes the document json.Encoder with SetIndent("", "  ")
// writes for jsonDoc, the same layout at every size, but one list element
// at a time: a first provisioning (100k members, 200k memberships) would
// otherwise be held twice more, as jsonChanges and as the encoded
// document. Only each run's head, its lists left empty, is encoded whole.
func writeJSON(out io.Writer, reports []reconciler.Report, orphans []reconciler.Orphan) error {
	w := jsonWriter{Writer: bufio.NewWriterSize(out, 64<<10)}
	w.WriteString("{\n" + indent + `"format_version": ` + strconv.Itoa(FormatVersion) + ",\n" + indent + `"runs": [`)
	for i := range reports {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n" + indent + indent)
		if err := w.run(&reports[i], indent+indent); err != nil {
			return err
		}
	}
	if len(reports) > 0 {
		w.WriteString("\n" + indent)
	}
	w.WriteByte(']')
	if len(orphans) > 0 {
		w.WriteString(",\n" + indent + `"orphans": `)
		b, err := w.encode(orphans, indent)
		if err != nil {
			return err
		}
		w.Write(b)
	}
	w.WriteString("\n}\n")
	return w.Flush()
}

// jsonWriter encodes values into scratch buffers it reuses.
type jsonWriter struct {
	*bufio.Writer
	raw, out, head bytes.Buffer
	enc            *json.Encoder
}

// encode returns v as the document's encoder lays it out at a nesting
// whose lines start with prefix (v's first line is the caller's). The
// bytes are valid until the next encode.
func (w *jsonWriter) encode(v any, prefix string) ([]byte, error) {
	if w.enc == nil {
		w.enc = json.NewEncoder(&w.raw) // escapes HTML as the document's does
	}
	w.raw.Reset()
	w.out.Reset()
	if err := w.enc.Encode(v); err != nil {
		return nil, err
	}
	if err := json.Indent(&w.out, bytes.TrimSuffix(w.raw.Bytes(), []byte("\n")), prefix, indent); err != nil {
		return nil, err
	}
	return w.out.Bytes(), nil
}

// list is a list a run's head holds empty, to be streamed in its place.
type list struct {
	empty string // how the head shows it: `"key": []`
	n     int
	elem  func(i int) any
	depth int // nesting of the elements below the run object
}

// run writes one run whose "{" starts at prefix: its head, with every
// long list streamed into the gap the head leaves for it.
func (w *jsonWriter) run(r *reconciler.Report, prefix string) error {
	b, err := w.encode(toJSON(r, false), prefix)
	if err != nil {
		return err
	}
	w.head.Reset()
	w.head.Write(b)
	lists := []list{{`"changes": []`, len(r.Plan.Changes), func(i int) any { return toJSONChange(&r.Plan.Changes[i]) }, 2}}
	if r.PendingSetup != nil {
		lists = append(lists,
			list{`"members": []`, len(r.PendingSetup), func(i int) any { return r.PendingSetup[i] }, 3},
			list{`"provisioned": []`, len(r.ProvisionedPending), func(i int) any { return r.ProvisionedPending[i] }, 3})
	}
	// Each key is found by its first occurrence: these keys appear once in
	// a run, and inside a string value a quote is always escaped.
	rest := w.head.Bytes()
	for _, l := range lists {
		at := bytes.Index(rest, []byte(l.empty))
		if at < 0 {
			return fmt.Errorf("no %s in the run's head %.80s", l.empty, rest)
		}
		if l.n == 0 {
			continue
		}
		open := at + len(l.empty) - 1 // the "]": what precedes it ends with "["
		if _, err := w.Write(rest[:open]); err != nil {
			return err
		}
		inner := prefix + strings.Repeat(indent, l.depth)
		for i := range l.n {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString("\n" + inner)
			b, err := w.encode(l.elem(i), inner)
			if err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		w.WriteString("\n" + inner[:len(inner)-len(indent)] + "]")
		rest = rest[open+1:]
	}
	_, err = w.Write(rest)
	return err
}

// toJSON is the report of one run; its lists left empty unless whole.
func toJSON(r *reconciler.Report, whole bool) jsonRun {
	out := jsonRun{
		Org: r.Org, Source: r.Source, Target: r.Target, Summary: summaryMap(r.Plan.Summary()),
		Changes: []jsonChange{}, Conflicts: r.Plan.Conflicts, Held: r.Plan.Held, Read: r.Plan.Read, Disabled: r.Plan.Disabled, Warnings: r.Plan.Warnings,
		Guard:   jsonGuard(r.Guard),
		Applied: r.Applied != nil, DryRun: r.DryRun, RunID: r.RunID, Error: r.Error,
	}
	if r.Applied != nil {
		out.AppliedSummary = summaryMap(r.Applied.Counts)
		out.Skipped = r.Applied.Skipped
	}
	if r.PendingSetup != nil {
		out.PendingSetup = &jsonPending{Count: len(r.PendingSetup), Members: []string{}, Provisioned: []string{}}
	}
	if whole {
		for i := range r.Plan.Changes {
			out.Changes = append(out.Changes, toJSONChange(&r.Plan.Changes[i]))
		}
		if r.PendingSetup != nil {
			out.PendingSetup.Members = append(out.PendingSetup.Members, r.PendingSetup...)
			out.PendingSetup.Provisioned = append(out.PendingSetup.Provisioned, r.ProvisionedPending...)
		}
	}
	return out
}

// noFields is the "fields": {} of a member change without field changes;
// never written to.
var noFields = map[string]orgsync.FieldChange{}

func toJSONChange(c *orgsync.Change) jsonChange {
	jc := jsonChange{Action: string(c.Action), UserName: c.UserName, Group: c.GroupName, Reason: c.Reason}
	if c.Action == orgsync.ActionReactivate && c.Member != nil {
		jc.Status = string(c.Member.Status)
	}
	switch {
	case isMemberAction(c.Action):
		jc.Fields = noFields
		if c.Fields != nil {
			jc.Fields = c.Fields
		}
	case c.Fields != nil:
		jc.Fields = c.Fields
	}
	return jc
}

func summaryMap(s orgsync.Summary) map[string]int {
	m := make(map[string]int, len(orgsync.Actions))
	for _, a := range orgsync.Actions {
		m[string(a)] = s[a]
	}
	return m
}

func isMemberAction(a orgsync.Action) bool {
	switch a {
	case orgsync.ActionProvision, orgsync.ActionAdopt, orgsync.ActionUpdate,
		orgsync.ActionDeprovision, orgsync.ActionReactivate, orgsync.ActionPurge, orgsync.ActionRekey:
		return true
	}
	return false
}
