package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// ANSI styles of the text report.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

type painter bool

func (p painter) paint(style, s string) string {
	if !p {
		return s
	}
	return style + s + ansiReset
}

// actionLook is the marker and colour of an action in text reports.
func actionLook(a orgsync.Action) (mark, style string) {
	switch a {
	case orgsync.ActionProvision, orgsync.ActionGroupCreate, orgsync.ActionMemberAdd, orgsync.ActionAdopt:
		return "+", ansiGreen
	case orgsync.ActionReactivate:
		return "↑", ansiGreen
	case orgsync.ActionUpdate, orgsync.ActionGroupUpdate, orgsync.ActionRekey:
		return "~", ansiYellow
	}
	return "-", ansiRed
}

func writeText(out io.Writer, reports []reconciler.Report, o Options) error {
	w := bufio.NewWriterSize(out, 64<<10)
	p := painter(o.Color)
	for i := range reports {
		r := &reports[i]
		if i > 0 {
			fmt.Fprintln(w)
		}
		n := len(r.Plan.Changes)
		fmt.Fprintf(w, "%s %s · org %s · %s · %d %s\n", p.paint(ansiBold, kind(r)), p.paint(ansiBold, SafeText(r.Source)),
			SafeText(r.Org), state(r), n, plural(n, "change", "changes"))
		if failed(r) {
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiRed+ansiBold, "error:"), textLine(r.Error))
		}
		if rt := readText(r.Plan); rt != "" && r.Target == "" {
			fmt.Fprintf(w, "  %s\n", rt)
		}
		if n == 0 && r.Error == "" {
			fmt.Fprintf(w, "  %s\n", noChanges(r))
		}
		groups := byAction(r.Plan.Changes)
		if o.PerAction > 0 && n > o.PerAction {
			fmt.Fprintf(w, "summary: %s; the first %d of each action follow\n", summaryText(groups), o.PerAction)
		}
		for gi := range groups {
			g := &groups[gi]
			mark, style := actionLook(g.action)
			fmt.Fprintf(w, "%s (%d)\n", p.paint(style+ansiBold, string(g.action)), g.len())
			for j := range shown(g, o.PerAction) {
				c := g.change(j)
				fmt.Fprintf(w, "  %s %s\n", p.paint(style, mark), describe(&c, SafeText, strconv.Quote, textLine))
			}
			if more := moreLine(g, o.PerAction); more != "" {
				fmt.Fprintf(w, "  %s\n", more)
			}
		}
		if len(r.Plan.Conflicts) > 0 {
			fmt.Fprintf(w, "%s (%d), held back (%s):\n", p.paint(ansiYellow+ansiBold, "conflicts"), len(r.Plan.Conflicts), heldText(r.Plan.Held))
			for _, c := range r.Plan.Conflicts {
				fmt.Fprintf(w, "  %s %s\n", p.paint(ansiYellow, "!"), conflictText(c, SafeText, textLine))
				if r.Source != orgsync.OwnerPurge {
					fmt.Fprintf(w, "    → %s\n", conflictHint(c, r.Org, r.Source))
				}
			}
		}
		if len(r.Plan.Warnings) > 0 {
			fmt.Fprintf(w, "%s (%d):\n", p.paint(ansiYellow+ansiBold, "warnings"), len(r.Plan.Warnings))
			for _, s := range r.Plan.Warnings {
				fmt.Fprintf(w, "  %s %s\n", p.paint(ansiYellow, "?"), textLine(s))
			}
		}
		switch {
		case r.Guard.Blocked && r.Guard.Forced:
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiYellow+ansiBold, "guard: overridden by --force:"), textLine(r.Guard.Reason))
		case r.Guard.Blocked:
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiRed+ansiBold, "guard: BLOCKED:"), textLine(r.Guard.Reason))
		default:
			fmt.Fprintln(w, "guard: ok")
		}
		if r.Applied != nil {
			fmt.Fprintf(w, "applied: %s\n", appliedText(r.Applied))
			for _, s := range r.Applied.Skipped {
				fmt.Fprintf(w, "  %s skipped by the store: %s\n", p.paint(ansiYellow, "!"), textLine(s))
			}
		}
		fmt.Fprintln(w, p.paint(ansiCyan+ansiBold, pendingLine(r, SafeText)))
	}
	writeOrphansText(w, o.Orphans, p)
	return w.Flush()
}
