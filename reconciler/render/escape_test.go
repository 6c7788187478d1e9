package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

func TestSafeText(t *testing.T) {
	for _, tt := range []struct{ in, text, line, md string }{
		{"alice@example.org", "alice@example.org", "alice@example.org", "alice@example.org"},
		{"Émile Zola 山田", "Émile Zola 山田", "Émile Zola 山田", "Émile Zola 山田"},
		{"x\n| evil | row |", `"x\n| evil | row |"`, `x\n| evil | row |`, `x\\n\| evil \| row \|`},
		{"\x1b[2J", `"\x1b[2J"`, `\x1b[2J`, `\\x1b\[2J`},
		{"a\r\nguard: ok", `"a\r\nguard: ok"`, `a\r\nguard: ok`, `a\\r\\nguard: ok`},
		{"tab\there", `"tab\there"`, `tab\there`, `tab\\there`},
		{"\u202egnp.exe", `"\u202egnp.exe"`, `\u202egnp.exe`, `\\u202egnp.exe`},
		{"\u2066x\u2069", `"\u2066x\u2069"`, `\u2066x\u2069`, `\\u2066x\\u2069`},
		{"c1\u0085\u009b", `"c1\u0085\u009b"`, `c1\u0085\u009b`, `c1\\u0085\\u009b`},
		{"zero\u200bwidth", `"zero\u200bwidth"`, `zero\u200bwidth`, `zero\\u200bwidth`},
		{"bad\xffutf8", `"bad\xffutf8"`, `bad\xffutf8`, `bad\\xffutf8`},
		{`"quoted"`, `"\"quoted\""`, `"quoted"`, `"quoted"`},
		{"del\x7f", `"del\x7f"`, `del\x7f`, `del\\x7f`},
		{"**Guard:** ok <b>[x](y)</b> # ~", "**Guard:** ok <b>[x](y)</b> # ~", "**Guard:** ok <b>[x](y)</b> # ~",
			`\*\*Guard:\*\* ok \<b\>\[x\](y)\</b\> \# \~`},
	} {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := SafeText(tt.in); got != tt.text {
				t.Errorf("SafeText = %s, want %s", got, tt.text)
			}
			if got := textLine(tt.in); got != tt.line {
				t.Errorf("textLine = %s, want %s", got, tt.line)
			}
			if got := mdText(tt.in); got != tt.md {
				t.Errorf("mdText = %s, want %s", got, tt.md)
			}
		})
	}
}

func TestRenderEscapesHostileNames(t *testing.T) {
	reports := []reconciler.Report{hostileReport()}
	orphans := []reconciler.Orphan{{Org: "acme", Owner: "old\n| x |", Members: 1, Live: 1}}
	for _, tt := range []struct{ file, format string }{{"hostile.txt", "text"}, {"hostile.md", "markdown"}} {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Reports(&b, reports, Options{Format: tt.format, Orphans: orphans}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			golden(t, tt.file, b.Bytes())
			if strings.ContainsAny(out, "\x1b\r\u202e") {
				t.Errorf("raw control or bidi character in the %s report", tt.format)
			}
			for _, l := range strings.Split(out, "\n") {
				switch {
				case strings.Contains(l, "guard: ok") && !strings.Contains(l, `\n`) && !strings.Contains(l, `\x1b`):
					t.Errorf("line %q fakes the guard line", l)
				case strings.HasPrefix(l, "| evil"), strings.HasPrefix(l, "| member_add | 99"), strings.HasPrefix(l, "| conflict"),
					strings.HasPrefix(l, "| x |"):
					t.Errorf("line %q fakes a table row", l)
				case strings.HasPrefix(l, "## Guard"), strings.HasPrefix(l, "**Guard:** ok"), strings.HasPrefix(l, "- `fake`"):
					t.Errorf("line %q fakes a heading or item", l)
				}
			}
		})
	}

	// JSON stays exact: every name comes back byte for byte.
	var b bytes.Buffer
	if err := Reports(&b, reports, Options{Format: "json", Orphans: orphans}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Changes []struct {
				UserName string `json:"user_name"`
			} `json:"changes"`
		} `json:"runs"`
		Orphans []reconciler.Orphan `json:"orphans"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range doc.Runs[0].Changes {
		seen[c.UserName] = true
	}
	for _, n := range hostileNames {
		if !seen[n] {
			t.Errorf("JSON lost the exact name %q", n)
		}
	}
	if len(doc.Orphans) != 1 || doc.Orphans[0] != orphans[0] {
		t.Errorf("JSON orphans = %+v", doc.Orphans)
	}
}

func TestRenderOrphans(t *testing.T) {
	reports := []reconciler.Report{{Org: "acme", Source: "new-ldap", Plan: orgsync.Plan{Org: "acme", Owner: "new-ldap", Changes: []orgsync.Change{}},
		DryRun: true, PendingSetup: []string{}, ProvisionedPending: []string{}}}
	orphans := []reconciler.Orphan{{Org: "acme", Owner: "old-ldap", Members: 10, Live: 9, Groups: 2}}
	for _, format := range []string{"text", "markdown"} {
		var with, without bytes.Buffer
		if err := Reports(&with, reports, Options{Format: format, Orphans: orphans}); err != nil {
			t.Fatal(err)
		}
		if err := Reports(&without, reports, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		out := with.String()
		if !strings.HasPrefix(out, without.String()) {
			t.Errorf("%s: the orphans changed the reports before them", format)
		}
		for _, want := range []string{"old-ldap", "10 members", "9 with access", "keep their access", "no run deprovisions",
			"orgsync sources rename old-ldap NEW --org acme"} {
			if format == "markdown" && (want == "10 members" || want == "9 with access") {
				want = map[string]string{"10 members": "| 10 | 9 | 2 |", "9 with access": "with access"}[want]
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q:\n%s", format, want, out)
			}
		}
		if strings.Contains(without.String(), "rphan") {
			t.Errorf("%s: orphans shown without any", format)
		}
	}

	// JSON: a top-level "orphans" beside "runs", absent when there are none,
	// also after a run of many changes.
	big := firstReport(10_001, 0, 0).Plan
	for _, rs := range [][]reconciler.Report{reports, {{Org: "acme", Source: "new-ldap", Plan: big}}} {
		var b, none bytes.Buffer
		if err := Reports(&b, rs, Options{Format: "json", Orphans: orphans}); err != nil {
			t.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("%v: %.200s", err, b.Bytes())
		}
		var got []reconciler.Orphan
		if err := json.Unmarshal(doc["orphans"], &got); err != nil || len(got) != 1 || got[0] != orphans[0] || doc["runs"] == nil {
			t.Errorf("orphans = %s (%v)", doc["orphans"], err)
		}
		if err := Reports(&none, rs, Options{Format: "json"}); err != nil {
			t.Fatal(err)
		}
		var noDoc map[string]json.RawMessage
		if err := json.Unmarshal(none.Bytes(), &noDoc); err != nil || noDoc["orphans"] != nil {
			t.Errorf("no orphans: %v, %s", err, noDoc["orphans"])
		}
	}
}

func TestSafeLines(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                          "plain",
		"first\nsecond":                  "first\nsecond",
		"a\x1b[2J\nb\u202ec\r":           `a\x1b[2J` + "\n" + `b\u202ec\r`,
		"joined: err1\nserver says \x07": "joined: err1\n" + `server says \a`,
	} {
		if got := SafeLines(in); got != want {
			t.Errorf("SafeLines(%q) = %q, want %q", in, got, want)
		}
	}
}
