package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// Formats Reports accepts.
var Formats = []string{"text", "json", "markdown"}

// Options say how Reports writes.
type Options struct {
	// Format is text (also ""), json or markdown (also md).
	Format string
	// Color adds ANSI colours to text (use it on a terminal only).
	Color bool
	// Orphans are the orphaned owners of the reports' orgs: a warning
	// block after the reports in text and markdown, a top-level "orphans"
	// array (absent when there are none) in JSON. They change no report.
	Orphans []reconciler.Orphan
	// PerAction, when above 0, lists at most that many changes of each
	// action in text and markdown, then how many more there are and how to
	// list them all: a terminal's view of a large plan. JSON always lists
	// every change.
	PerAction int
	// Generated and Version, when set, head each markdown report with when
	// and by which build it was made (with its run id).
	Generated time.Time
	Version   string
}

// Reports writes reports as o.Format says, streaming: memory stays bounded
// by the largest single change, not the report. Each report ends with the
// members awaiting master-key creation.
func Reports(w io.Writer, reports []reconciler.Report, o Options) error {
	var err error
	switch o.Format {
	case "text", "":
		err = writeText(w, reports, o)
	case "json":
		err = writeJSON(w, reports, o.Orphans)
	case "markdown", "md":
		err = writeMarkdown(w, reports, o)
	default:
		return fmt.Errorf("render: report format %q (want text, json or markdown): %w", o.Format, orgsync.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("render: %s report: %w", o.Format, err)
	}
	return nil
}

// state names what the report is, for headings.
func state(r *reconciler.Report) string {
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
func failed(r *reconciler.Report) bool {
	return r.Error != "" && !(r.Guard.Blocked && !r.Guard.Forced)
}

// pendingLine is the last line of every report.
func pendingLine(r *reconciler.Report, quote func(string) string) string {
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

// actionGroup is the changes of one action, in the plan's order.
type actionGroup struct {
	action orgsync.Action
	run    []orgsync.Change // the changes, when the plan holds them side by side
	all    []orgsync.Change // else the plan's changes, and
	at     []int            // their positions in it
}

func (g *actionGroup) len() int {
	if g.at != nil {
		return len(g.at)
	}
	return len(g.run)
}

func (g *actionGroup) change(i int) orgsync.Change {
	if g.at != nil {
		return g.all[g.at[i]]
	}
	return g.run[i]
}

// byAction splits changes into groups in apply order without copying
// them: a first provisioning's plan is the largest thing a report shows.
// A plan in apply order (as Diff and the purge plan make them) is cut into
// runs; any other order is grouped by position.
func byAction(cs []orgsync.Change) []actionGroup {
	rank := make(map[orgsync.Action]int, len(orgsync.Actions))
	for i, a := range orgsync.Actions {
		rank[a] = i
	}
	sorted := slices.IsSortedFunc(cs, func(a, b orgsync.Change) int { return rank[a.Action] - rank[b.Action] })
	var out []actionGroup
	for _, a := range orgsync.Actions {
		g := actionGroup{action: a}
		if sorted {
			lo, _ := slices.BinarySearchFunc(cs, rank[a], func(c orgsync.Change, r int) int { return rank[c.Action] - r })
			hi := lo
			for hi < len(cs) && cs[hi].Action == a {
				hi++
			}
			g.run = cs[lo:hi]
		} else {
			g.all = cs
			for i := range cs {
				if cs[i].Action == a {
					g.at = append(g.at, i)
				}
			}
		}
		if g.len() > 0 {
			out = append(out, g)
		}
	}
	return out
}

// moreLine says how many changes of g a capped report left out, or "".
func moreLine(g *actionGroup, perAction int) string {
	n := g.len()
	if perAction <= 0 || n <= perAction {
		return ""
	}
	return fmt.Sprintf("… and %d more (--full or --format json lists every change)", n-perAction)
}

// summaryText counts a plan's changes by action, in apply order: the
// head of a capped report.
func summaryText(groups []actionGroup) string {
	parts := make([]string, len(groups))
	for i := range groups {
		parts[i] = fmt.Sprintf("%s %d", groups[i].action, groups[i].len())
	}
	return strings.Join(parts, ", ")
}

// shown is how many of g's changes a report lists.
func shown(g *actionGroup, perAction int) int {
	if perAction <= 0 {
		return g.len()
	}
	return min(g.len(), perAction)
}

// describe is the text of one change, names passed through q, field
// values through fq and the reason through text (reasons can quote what a
// source sent).
func describe(c *orgsync.Change, q, fq, text func(string) string) string {
	var s string
	switch c.Action {
	case orgsync.ActionMemberAdd, orgsync.ActionMemberRemove:
		s = q(c.GroupName) + ": " + q(c.UserName)
	case orgsync.ActionGroupCreate, orgsync.ActionGroupUpdate, orgsync.ActionGroupDelete:
		s = q(c.GroupName)
	default:
		s = q(c.UserName)
	}
	if (c.Action == orgsync.ActionProvision || c.Action == orgsync.ActionAdopt) && c.Member != nil && c.Member.Role != "" {
		s += " as " + q(c.Member.Role)
	}
	if c.Action == orgsync.ActionReactivate && c.Member != nil {
		s += " → " + string(c.Member.Status)
	}
	if len(c.Fields) > 0 {
		names := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			names = append(names, k)
		}
		slices.Sort(names)
		parts := make([]string, len(names))
		for i, k := range names {
			f := c.Fields[k]
			parts[i] = fmt.Sprintf("%s %s → %s", k, fq(f.From), fq(f.To))
		}
		s += ": " + strings.Join(parts, ", ")
	}
	if c.Reason != "" {
		s += " (" + text(c.Reason) + ")"
	}
	return s
}

// heldText counts the held entries: what they name is kept as it is.
func heldText(h orgsync.HeldCount) string {
	return fmt.Sprintf("%d %s and %d %s kept as they are", h.Users, plural(h.Users, "user", "users"), h.Groups, plural(h.Groups, "group", "groups"))
}

// conflictText is the text of a conflict, names passed through q and its
// reason through text.
func conflictText(c orgsync.Conflict, q, text func(string) string) string {
	var who []string
	if c.UserName != "" {
		who = append(who, q(c.UserName))
	}
	if c.Key != "" {
		who = append(who, "(key "+q(c.Key)+")")
	}
	// The directory entry involved, unless the reason names it already
	// (an entry the source held says where it is).
	if c.DN != "" && !strings.Contains(c.Reason, c.DN) {
		who = append(who, "at "+q(c.DN))
	}
	if len(who) == 0 {
		return text(c.Reason)
	}
	return strings.Join(who, " ") + ": " + text(c.Reason)
}

// conflictHint says how an operator resolves conflict c of a plan of
// source in org.
func conflictHint(c orgsync.Conflict, org, source string) string {
	r := c.Reason
	switch {
	case strings.Contains(r, "appears") && strings.Contains(r, "in the source"):
		return "make it unique in the source; until then nothing it names changes"
	case strings.Contains(r, "belongs to") && strings.Contains(r, "no owner"),
		strings.Contains(r, "members with no owner"):
		return "a member nobody owns holds it: give the entry that member's email so the run adopts it, or remove the member"
	case strings.Contains(r, "belongs to") && !strings.Contains(r, fmt.Sprintf("owned by %q", source)):
		return "a member of another owner holds the name: rename one of them in the source (or, if that owner is this source's old name, orgsync sources rename)"
	case strings.Contains(r, "belongs to"):
		user := c.UserName
		if user == "" {
			user = "USER"
		}
		return fmt.Sprintf("if it is the same person, re-created in the directory with a new key: orgsync members rekey --org %s %s --source %s; otherwise rename one of them in the source",
			SafeText(org), SafeText(user), SafeText(source))
	}
	return "fix the entry in the source; until then what it names is kept as it is"
}

// appliedText lists the applied counts in apply order, or says none.
func appliedText(a *orgsync.Applied) string {
	var parts []string
	for _, act := range orgsync.Actions {
		if n := a.Counts[act]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", act, n))
		}
	}
	if len(parts) == 0 {
		return "nothing (the store already matched)"
	}
	return strings.Join(parts, ", ")
}

// readText says how many users the source listed and how many of them it
// reads as disabled; "" when the plan read none (a purge).
func readText(p orgsync.Plan) string {
	if p.Read == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s read from the source, %d disabled there", p.Read, plural(p.Read, "user", "users"), p.Disabled)
}

// noChanges is what a report without changes says.
func noChanges(r *reconciler.Report) string {
	if r.Source == orgsync.OwnerPurge {
		return "nothing to purge: no member has been deprovisioned for longer than the org's purge_after"
	}
	if r.Target != "" {
		return "no changes: the target already matches the org"
	}
	return "no changes: the org already matches the source"
}

// kind is how a report's heading names what it is of.
func kind(r *reconciler.Report) string {
	if r.Target != "" {
		return "Target"
	}
	return "Source"
}
