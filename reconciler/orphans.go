package reconciler

import (
	"fmt"
	"io"
	"strings"
)

// Orphan is an owner in the store that is no source of its org's config:
// a source renamed or removed in the config, or moved to another org. No
// run reconciles its members any more. Nothing happens to them on its
// own: they keep their access, and no run deprovisions, updates or
// reassigns them, until the operator hands them to a source (`orgsync
// sources rename`), puts the source back, or removes them.
type Orphan struct {
	Org   string `json:"org"`
	Owner string `json:"owner"`
	// Members counts every member the owner holds; Live those neither
	// deprovisioned nor deleted, who keep their access.
	Members int `json:"members"`
	Live    int `json:"live"`
	Groups  int `json:"groups"`
	// Successor, when set, is the one source of the org that owns nothing
	// yet: likely the orphan's new name, so the advice names it. A guess
	// for the operator to confirm, never acted on.
	Successor string `json:"successor,omitempty"`
}

// RenderWith is Render with the orphaned owners of the orgs reported: a
// warning block after the reports in text and markdown, and a top-level
// "orphans" array (absent when there are none) in JSON, beside "runs". They
// change no run's fields, guard or exit code.
func RenderWith(w io.Writer, reports []Report, orphans []Orphan, format string, color bool) error {
	return render(w, reports, orphans, format, color)
}

// orphanAdvice is what the operator can do about an orphan.
func orphanAdvice(o Orphan, code func(string) string) []string {
	rename := "If the source was renamed, hand them to the new name: " + code("orgsync sources rename "+o.Owner+" NEW --org "+o.Org) + "."
	if o.Successor != "" {
		rename = "If the source was renamed to " + code(o.Successor) + " (the org's one source that owns nothing yet), hand them over: " +
			code("orgsync sources rename "+o.Owner+" "+o.Successor+" --org "+o.Org) + "."
	}
	return []string{
		"Nothing happens to them automatically: they keep their access, and no run deprovisions or updates them.",
		rename,
		"Or put a source named " + code(o.Owner) + " back into org " + code(o.Org) + "'s config, so that its runs reconcile them again.",
		"Or, to take their access away, hand them to a source that no longer has them (its next run deprovisions them), then purge them.",
	}
}

func renderOrphansText(w io.Writer, orphans []Orphan, p painter) {
	if len(orphans) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s (%d): owners no source of their org's config is named after\n",
		p.paint(ansiYellow+ansiBold, "orphaned owners"), len(orphans))
	for _, o := range orphans {
		fmt.Fprintf(w, "  %s %s in org %s: %d %s (%d with access), %d %s\n", p.paint(ansiYellow, "!"),
			SafeText(o.Owner), SafeText(o.Org), o.Members, plural(o.Members, "member", "members"), o.Live,
			o.Groups, plural(o.Groups, "group", "groups"))
		for _, s := range orphanAdvice(o, func(s string) string { return "`" + SafeText(s) + "`" }) {
			fmt.Fprintf(w, "      %s\n", s)
		}
	}
}

func renderOrphansMarkdown(w io.Writer, orphans []Orphan) {
	if len(orphans) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Orphaned owners (%d)\n\n", len(orphans))
	fmt.Fprint(w, "Owners no source of their org's config is named after (a source renamed, removed or moved).\n\n")
	fmt.Fprint(w, "| org | owner | members | with access | groups |\n| --- | --- | ---: | ---: | ---: |\n")
	cell := func(s string) string { return strings.ReplaceAll(mdCode(s), "|", `\|`) }
	for _, o := range orphans {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d |\n", cell(o.Org), cell(o.Owner), o.Members, o.Live, o.Groups)
	}
	fmt.Fprintln(w)
	for _, o := range orphans {
		fmt.Fprintf(w, "%s in org %s:\n\n", mdCode(o.Owner), mdCode(o.Org))
		for _, s := range orphanAdvice(o, mdCode) {
			fmt.Fprintf(w, "- %s\n", s)
		}
		fmt.Fprintln(w)
	}
}
