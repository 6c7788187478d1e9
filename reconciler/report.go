package reconciler

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/orgsync/orgsync"
)

// Report is the outcome of one plan or run of one source (or of a purge),
// the input of Render.
type Report struct {
	Org    string
	Source string
	Plan   orgsync.Plan
	Guard  orgsync.Decision
	// DryRun is set when the plan was only computed (orgsync plan).
	DryRun bool
	// Applied is what the store really changed; nil when nothing was
	// applied (dry run, blocked or failed before the apply).
	Applied *orgsync.Applied
	// PendingSetup holds the user names of the org's members awaiting
	// master-key creation (pending_setup) once this run is done: after the
	// plan for a dry run or an applied run, as observed otherwise. Nil when
	// the store was not read.
	PendingSetup []string
	// ProvisionedPending holds the user names this run provisioned (or, for
	// a dry run, would provision); they all await master-key creation.
	ProvisionedPending []string
	// Error is why the run failed, "" if it did not.
	Error string
	// RunID is the id of the recorded run, 0 for a dry run.
	RunID      int64
	StartedAt  time.Time
	FinishedAt time.Time
}

// Formats Render accepts.
var Formats = []string{"text", "json", "markdown"}

// Render writes reports in format (text, json or markdown). color adds ANSI
// colours to text output (use it on a terminal only). Each report ends with
// the members awaiting master-key creation.
func Render(w io.Writer, reports []Report, format string, color bool) error {
	var err error
	switch format {
	case "text", "":
		err = renderText(w, reports, color)
	case "json":
		err = renderJSON(w, reports)
	case "markdown", "md":
		err = renderMarkdown(w, reports)
	default:
		return fmt.Errorf("reconciler: report format %q (want text, json or markdown): %w", format, orgsync.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("reconciler: render %s: %w", format, err)
	}
	return nil
}

// DetailedExitCode is the exit code of `orgsync plan --detailed-exitcode`
// for reports that did not fail: 3 when a guard would block any of them, 2
// when any plans changes, 0 otherwise.
func DetailedExitCode(reports []Report) int {
	code := 0
	for _, r := range reports {
		switch {
		case r.Guard.Blocked && !r.Guard.Forced:
			return 3
		case !r.Plan.Empty():
			code = 2
		}
	}
	return code
}

// state names what the report is, for headings.
func (r *Report) state() string {
	switch {
	case r.Guard.Blocked && !r.Guard.Forced:
		if r.DryRun {
			return "dry run, a guard would block"
		}
		return "blocked by a guard, nothing applied"
	case r.Error != "":
		return "failed"
	case r.DryRun:
		return "dry run"
	case r.Guard.Forced:
		return "applied with --force"
	case r.Applied != nil:
		return "applied"
	}
	return "not applied"
}

// failed reports whether the report has an error other than a guard's
// refusal (which the guard line already explains).
func (r *Report) failed() bool {
	return r.Error != "" && !(r.Guard.Blocked && !r.Guard.Forced)
}

// pendingLine is the last line of every report.
func (r *Report) pendingLine(quote func(string) string) string {
	if r.PendingSetup == nil {
		return "Awaiting master-key creation: unknown (the store was not read)."
	}
	s := fmt.Sprintf("Awaiting master-key creation: %d %s", len(r.PendingSetup), plural(len(r.PendingSetup), "member", "members"))
	verb := "this run provisioned"
	if r.DryRun {
		verb = "this plan would provision"
	}
	n := len(r.ProvisionedPending)
	if n == 0 {
		return s + "; " + verb + " none."
	}
	const shown = 50 // the JSON report lists them all
	names := r.ProvisionedPending[:min(n, shown)]
	s += fmt.Sprintf("; %s %d: ", verb, n)
	for i, u := range names {
		if i > 0 {
			s += ", "
		}
		s += quote(u)
	}
	if n > shown {
		s += fmt.Sprintf(" and %d more", n-shown)
	}
	return s + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// pendingAfter returns the sorted user names of the members that are
// pending_setup in observed, after p when project is set.
func pendingAfter(observed orgsync.Snapshot, p *orgsync.Plan, project bool) []string {
	return pendingOf(observed, p, project, nil)
}

// pendingApplied is pendingAfter the applied plan p, with the members the
// store really provisioned in place of p's provisions: it skips one whose
// user name was taken between plan and apply.
func pendingApplied(observed orgsync.Snapshot, p *orgsync.Plan, provisioned []string) []string {
	if provisioned == nil {
		provisioned = []string{} // nothing provisioned, not "as planned"
	}
	return pendingOf(observed, p, true, provisioned)
}

// pendingOf is pendingAfter, with provisioned (when not nil) standing for
// the plan's provisions.
func pendingOf(observed orgsync.Snapshot, p *orgsync.Plan, project bool, provisioned []string) []string {
	type st struct {
		name   string
		status orgsync.Status
	}
	byID := make(map[string]st, len(observed.Members))
	for _, m := range observed.Members {
		if m.DeletedAt == nil {
			byID[m.ID] = st{m.UserName, m.Status}
		}
	}
	added := provisioned
	if project {
		for _, c := range p.Changes {
			s, ok := byID[c.MemberID]
			switch c.Action {
			case orgsync.ActionProvision:
				if provisioned == nil {
					added = append(added, c.UserName)
				}
			case orgsync.ActionAdopt, orgsync.ActionReactivate:
				byID[c.MemberID] = st{c.UserName, c.Member.Status}
			case orgsync.ActionUpdate:
				if ok {
					byID[c.MemberID] = st{c.UserName, s.status}
				}
			case orgsync.ActionDeprovision:
				if ok {
					byID[c.MemberID] = st{s.name, orgsync.StatusDeprovisioned}
				}
			case orgsync.ActionPurge:
				delete(byID, c.MemberID)
			}
		}
	}
	out := make([]string, 0, len(added))
	out = append(out, added...)
	for _, s := range byID {
		if s.status == orgsync.StatusPendingSetup {
			out = append(out, s.name)
		}
	}
	slices.Sort(out)
	return out
}

// plannedProvisions lists the user names p provisions.
func plannedProvisions(p *orgsync.Plan) []string {
	out := []string{}
	for _, c := range p.Changes {
		if c.Action == orgsync.ActionProvision {
			out = append(out, c.UserName)
		}
	}
	slices.Sort(out)
	return out
}

// The JSON shape is the CLI contract of `plan --format json`, format
// version 1 (see docs/formats.md); fields beyond it are additions, never
// renames.
type jsonDoc struct {
	Runs []jsonRun `json:"runs"`
}

type jsonRun struct {
	Org            string             `json:"org"`
	Source         string             `json:"source"`
	Summary        map[string]int     `json:"summary"`
	Changes        []jsonChange       `json:"changes"`
	Conflicts      []orgsync.Conflict `json:"conflicts,omitempty"`
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

// indentLimit is the largest plan whose JSON report is indented.
const indentLimit = 10000

func renderJSON(w io.Writer, reports []Report) error {
	changes := 0
	for i := range reports {
		changes += len(reports[i].Plan.Changes)
	}
	if changes > indentLimit {
		return streamJSON(w, reports)
	}
	doc := jsonDoc{Runs: make([]jsonRun, 0, len(reports))}
	for i := range reports {
		doc.Runs = append(doc.Runs, toJSON(&reports[i], true))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// streamJSON writes a large plan (a first provisioning) compact and one
// change at a time: indenting cost as much as the rest of the report, and
// the whole document in memory weighed more than the plan it describes.
// The bytes are those json.Encoder writes for the whole document.
func streamJSON(w io.Writer, reports []Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"runs":[`)
	for i := range reports {
		if i > 0 {
			bw.WriteByte(',')
		}
		head, err := json.Marshal(toJSON(&reports[i], false))
		if err != nil {
			return err
		}
		// The first "changes" key is the run's own: in string values a
		// quote is always escaped.
		pre, post, ok := bytes.Cut(head, []byte(`"changes":[]`))
		if !ok {
			return fmt.Errorf("json report: no changes member in %.80s", head)
		}
		bw.Write(pre)
		bw.WriteString(`"changes":[`)
		for j, c := range reports[i].Plan.Changes {
			if j > 0 {
				bw.WriteByte(',')
			}
			b, err := json.Marshal(toJSONChange(c))
			if err != nil {
				return err
			}
			bw.Write(b)
		}
		bw.WriteByte(']')
		bw.Write(post)
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// toJSON is the report of one run; its changes only when withChanges.
func toJSON(r *Report, withChanges bool) jsonRun {
	out := jsonRun{
		Org: r.Org, Source: r.Source, Summary: summaryMap(r.Plan.Summary()),
		Changes: []jsonChange{}, Conflicts: r.Plan.Conflicts, Warnings: r.Plan.Warnings,
		Guard:   jsonGuard(r.Guard),
		Applied: r.Applied != nil, DryRun: r.DryRun, RunID: r.RunID, Error: r.Error,
	}
	if r.Applied != nil {
		out.AppliedSummary = summaryMap(r.Applied.Counts)
		out.Skipped = r.Applied.Skipped
	}
	if r.PendingSetup != nil {
		out.PendingSetup = &jsonPending{
			Count: len(r.PendingSetup), Members: r.PendingSetup,
			Provisioned: append([]string{}, r.ProvisionedPending...),
		}
	}
	if withChanges {
		out.Changes = make([]jsonChange, 0, len(r.Plan.Changes))
		for _, c := range r.Plan.Changes {
			out.Changes = append(out.Changes, toJSONChange(c))
		}
	}
	return out
}

func toJSONChange(c orgsync.Change) jsonChange {
	jc := jsonChange{Action: string(c.Action), UserName: c.UserName, Group: c.GroupName, Reason: c.Reason}
	if c.Action == orgsync.ActionReactivate && c.Member != nil {
		jc.Status = string(c.Member.Status)
	}
	switch {
	case isMemberAction(c.Action):
		f := c.Fields
		if f == nil {
			f = map[string]orgsync.FieldChange{}
		}
		jc.Fields = f
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
		orgsync.ActionDeprovision, orgsync.ActionReactivate, orgsync.ActionPurge:
		return true
	}
	return false
}
