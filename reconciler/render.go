package reconciler

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/orgsync/orgsync"
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
	case orgsync.ActionUpdate, orgsync.ActionGroupUpdate:
		return "~", ansiYellow
	}
	return "-", ansiRed
}

// byAction splits changes into groups in apply order.
func byAction(cs []orgsync.Change) [][]orgsync.Change {
	var out [][]orgsync.Change
	for _, a := range orgsync.Actions {
		var g []orgsync.Change
		for _, c := range cs {
			if c.Action == a {
				g = append(g, c)
			}
		}
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// describe is the text of one change, names passed through q and field
// values through fq.
func describe(c orgsync.Change, q, fq func(string) string) string {
	var s string
	switch c.Action {
	case orgsync.ActionMemberAdd, orgsync.ActionMemberRemove:
		s = q(c.GroupName) + ": " + q(c.UserName)
	case orgsync.ActionGroupCreate, orgsync.ActionGroupUpdate, orgsync.ActionGroupDelete:
		s = q(c.GroupName)
	default:
		s = q(c.UserName)
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
		s += " (" + c.Reason + ")"
	}
	return s
}

// withReason is c with its reason passed through text (reasons can quote
// what a source sent).
func withReason(c orgsync.Change, text func(string) string) orgsync.Change {
	c.Reason = text(c.Reason)
	return c
}

func renderText(out io.Writer, reports []Report, orphans []Orphan, color bool) error {
	w := bufio.NewWriter(out)
	p := painter(color)
	for i := range reports {
		r := &reports[i]
		if i > 0 {
			fmt.Fprintln(w)
		}
		n := len(r.Plan.Changes)
		fmt.Fprintf(w, "%s %s · org %s · %s · %d %s\n", p.paint(ansiBold, "Source"), p.paint(ansiBold, SafeText(r.Source)),
			SafeText(r.Org), r.state(), n, plural(n, "change", "changes"))
		if r.failed() {
			fmt.Fprintf(w, "%s %s\n", p.paint(ansiRed+ansiBold, "error:"), textLine(r.Error))
		}
		if n == 0 && r.Error == "" {
			fmt.Fprintln(w, "  no changes: the org already matches the source")
		}
		for _, g := range byAction(r.Plan.Changes) {
			mark, style := actionLook(g[0].Action)
			fmt.Fprintf(w, "%s (%d)\n", p.paint(style+ansiBold, string(g[0].Action)), len(g))
			for _, c := range g {
				fmt.Fprintf(w, "  %s %s\n", p.paint(style, mark), describe(withReason(c, textLine), SafeText, strconv.Quote))
			}
		}
		if len(r.Plan.Conflicts) > 0 {
			fmt.Fprintf(w, "%s (%d), held back (%s):\n", p.paint(ansiYellow+ansiBold, "conflicts"), len(r.Plan.Conflicts), heldText(r.Plan.Held))
			for _, c := range r.Plan.Conflicts {
				fmt.Fprintf(w, "  %s %s\n", p.paint(ansiYellow, "!"), conflictText(c, SafeText, textLine))
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
		fmt.Fprintln(w, p.paint(ansiCyan+ansiBold, r.pendingLine(SafeText)))
	}
	renderOrphansText(w, orphans, p)
	return w.Flush()
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
	if len(who) == 0 {
		return text(c.Reason)
	}
	return strings.Join(who, " ") + ": " + text(c.Reason)
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

// mdCode quotes s as inline markdown code.
func mdCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "`" + strings.ReplaceAll(SafeText(s), "`", "'") + "`"
}

func renderMarkdown(out io.Writer, reports []Report, orphans []Orphan) error {
	w := bufio.NewWriter(out)
	for i := range reports {
		r := &reports[i]
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "## Source %s → org %s (%s)\n\n", mdCode(r.Source), mdCode(r.Org), r.state())
		if r.failed() {
			fmt.Fprintf(w, "**Error:** %s\n\n", mdText(r.Error))
		}
		if len(r.Plan.Changes) == 0 && r.Error == "" {
			fmt.Fprint(w, "No changes: the org already matches the source.\n\n")
		} else if len(r.Plan.Changes) > 0 {
			fmt.Fprint(w, "| action | changes |\n| --- | ---: |\n")
			for _, g := range byAction(r.Plan.Changes) {
				fmt.Fprintf(w, "| %s | %d |\n", g[0].Action, len(g))
			}
			fmt.Fprintln(w)
			for _, g := range byAction(r.Plan.Changes) {
				fmt.Fprintf(w, "### %s (%d)\n\n", g[0].Action, len(g))
				for _, c := range g {
					fmt.Fprintf(w, "- %s\n", describe(withReason(c, mdText), mdCode, mdCode))
				}
				fmt.Fprintln(w)
			}
		}
		if len(r.Plan.Conflicts) > 0 {
			fmt.Fprintf(w, "### Conflicts, held back (%d)\n\n%s.\n\n", len(r.Plan.Conflicts), heldText(r.Plan.Held))
			for _, c := range r.Plan.Conflicts {
				fmt.Fprintf(w, "- %s\n", conflictText(c, mdCode, mdText))
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
		fmt.Fprintf(w, "**%s**\n", r.pendingLine(mdCode))
	}
	renderOrphansMarkdown(w, orphans)
	return w.Flush()
}
