package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// mdCode quotes s as inline markdown code.
func mdCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "`" + strings.ReplaceAll(SafeText(s), "`", "'") + "`"
}

func writeMarkdown(out io.Writer, reports []reconciler.Report, o Options) error {
	w := bufio.NewWriterSize(out, 64<<10)
	for i := range reports {
		r := &reports[i]
		if i > 0 {
			fmt.Fprintln(w)
		}
		arrow := "→"
		if r.Target != "" {
			arrow = "←" // the target is converged from the org
		}
		fmt.Fprintf(w, "## %s %s %s org %s (%s)\n\n", kind(r), mdCode(r.Source), arrow, mdCode(r.Org), state(r))
		if line := madeLine(r, o); line != "" {
			fmt.Fprintf(w, "_%s_\n\n", line)
		}
		if rt := readText(r.Plan); rt != "" {
			fmt.Fprintf(w, "%s.\n\n", strings.ToUpper(rt[:1])+rt[1:])
		}
		if failed(r) {
			fmt.Fprintf(w, "**Error:** %s\n\n", mdText(r.Error))
		}
		if len(r.Plan.Changes) == 0 && r.Error == "" {
			nc := noChanges(r)
			fmt.Fprintf(w, "%s.\n\n", strings.ToUpper(nc[:1])+nc[1:])
		} else if len(r.Plan.Changes) > 0 {
			groups := byAction(r.Plan.Changes)
			fmt.Fprint(w, "| action | changes |\n| --- | ---: |\n")
			for gi := range groups {
				fmt.Fprintf(w, "| %s | %d |\n", groups[gi].action, groups[gi].len())
			}
			fmt.Fprintln(w)
			for gi := range groups {
				g := &groups[gi]
				fmt.Fprintf(w, "### %s (%d)\n\n", g.action, g.len())
				for j := range shown(g, o.PerAction) {
					c := g.change(j)
					fmt.Fprintf(w, "- %s\n", describe(&c, mdCode, mdCode, mdText))
				}
				if more := moreLine(g, o.PerAction); more != "" {
					fmt.Fprintf(w, "\n%s\n", mdText(more))
				}
				fmt.Fprintln(w)
			}
		}
		if len(r.Plan.Conflicts) > 0 {
			fmt.Fprintf(w, "### Conflicts, held back (%d)\n\n%s.\n\n", len(r.Plan.Conflicts), heldText(r.Plan.Held))
			for _, c := range r.Plan.Conflicts {
				if r.Source == orgsync.OwnerPurge {
					fmt.Fprintf(w, "- %s\n", conflictText(c, mdCode, mdText))
				} else {
					fmt.Fprintf(w, "- %s — %s\n", conflictText(c, mdCode, mdText), mdText(conflictHint(c, r.Org, r.Source)))
				}
			}
			fmt.Fprintln(w)
		}
		if len(r.Plan.Warnings) > 0 {
			fmt.Fprintf(w, "### Warnings (%d)\n\n", len(r.Plan.Warnings))
			for _, s := range r.Plan.Warnings {
				fmt.Fprintf(w, "- %s\n", mdText(s))
			}
			fmt.Fprintln(w)
		}
		switch {
		case r.Guard.Blocked && r.Guard.Forced:
			fmt.Fprintf(w, "**Guard:** overridden by `--force`: %s\n\n", mdText(r.Guard.Reason))
		case r.Guard.Blocked:
			fmt.Fprintf(w, "**Guard: blocked.** %s\n\n", mdText(r.Guard.Reason))
		default:
			fmt.Fprint(w, "**Guard:** ok\n\n")
		}
		if r.Applied != nil {
			fmt.Fprintf(w, "**Applied:** %s\n\n", appliedText(r.Applied))
			for _, s := range r.Applied.Skipped {
				fmt.Fprintf(w, "- skipped by the store: %s\n", mdText(s))
			}
			if len(r.Applied.Skipped) > 0 {
				fmt.Fprintln(w)
			}
		}
		fmt.Fprintf(w, "**%s**\n", pendingLine(r, mdCode))
	}
	writeOrphansMarkdown(w, o.Orphans)
	return w.Flush()
}

// madeLine says which run and build made the report, and when.
func madeLine(r *reconciler.Report, o Options) string {
	var parts []string
	if r.RunID != 0 {
		parts = append(parts, fmt.Sprintf("run #%d", r.RunID))
	} else {
		parts = append(parts, "dry run")
	}
	if !o.Generated.IsZero() {
		parts = append(parts, o.Generated.UTC().Format(time.RFC3339))
	}
	if o.Version != "" {
		parts = append(parts, "orgsync "+mdText(o.Version))
	}
	if len(parts) == 1 && r.RunID == 0 {
		return ""
	}
	return strings.Join(parts, " · ")
}
