package render

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names and reasons in reports come from sources and IdPs, which an
// attacker may control: a user name holding "\n| evil | row |", an ANSI
// escape ("\x1b[2J") or a bidi override must not fake a row, a heading or
// "guard: ok" in a text or markdown report. JSON needs none of this (its
// escaping is exact), so only the text and markdown renderers use these.

// printable reports whether s is valid UTF-8 made only of printable runes
// and ASCII spaces: no C0/C1 controls (newline, CR, tab, ESC), no format
// characters (bidi overrides U+202A–U+202E and U+2066–U+2069, zero-width
// ones), no line or paragraph separators.
func printable(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !unicode.IsPrint(r) {
			return false
		}
		i += n
	}
	return true
}

// SafeText is a name as a text report or table shows it: unchanged when it
// is printable, else Go-quoted ("a\nb", "\x1b[2J", "\u202e") so that every
// control shows as an escape and the quotes tell it from a name that
// really holds a backslash. A name that starts with a quote is quoted too.
func SafeText(s string) string {
	if printable(s) && !strings.HasPrefix(s, `"`) {
		return s
	}
	return strconv.Quote(s)
}

// textLine is free text (a reason, a warning, an error) for a text report:
// each non-printable rune as its Go escape, the rest unchanged, on one line.
func textLine(s string) string {
	if printable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case r == ' ' || (r >= 0x20 && r < 0x7f) || (r >= utf8.RuneSelf && unicode.IsPrint(r)):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// SafeLines is multi-line text (an error of several joined errors) for a
// terminal: each line as textLine shows it, so that text a server sent
// (a diagnostic message, a name) can send no escape sequence; the newlines
// between lines are kept.
func SafeLines(s string) string {
	if printable(strings.ReplaceAll(s, "\n", "")) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = textLine(l)
	}
	return strings.Join(lines, "\n")
}

// mdSpecial are the characters escaped in markdown free text: enough that
// text can open no code span, link, HTML tag, table cell, emphasis or
// heading of its own.
var mdSpecial = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`, `|`, `\|`, `#`, `\#`, `~`, `\~`,
)

// mdText is free text for a markdown report: controls escaped as in a text
// report (so it stays on its line), markdown syntax backslash-escaped.
func mdText(s string) string {
	return mdSpecial.Replace(textLine(s))
}
