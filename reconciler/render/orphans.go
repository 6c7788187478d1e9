package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/orgsync/orgsync/reconciler"
)

// orphanAdvice is what the operator can do about an orphan.
func orphanAdvice(o reconciler.Orphan, code func(string) string) []string {
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

func writeOrphansText(w io.Writer, orphans []reconciler.Orphan, p painter) {
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

func writeOrphansMarkdown(w io.Writer, orphans []reconciler.Orphan) {
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
