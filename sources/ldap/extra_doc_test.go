package ldap

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// referenceDocument is the member's document as it was first written:
// nested maps encoded by scimattr.Encode (json.Marshal, sorted keys).
// (*reader).document writes the same bytes directly; stored documents and
// their digests depend on the two agreeing byte for byte.
func referenceDocument(r *reader, e *extra) []byte {
	if e == nil {
		return nil
	}
	doc := map[string]any{}
	ent := map[string]any{}
	put := func(dst map[string]any, key, v string) {
		if v = strings.TrimSpace(v); v != "" && len(v) <= scimattr.MaxString && !strings.ContainsRune(v, 0) {
			dst[key] = v
		}
	}
	put(doc, "title", e.title)
	put(ent, "employeeNumber", e.employeeNumber)
	put(ent, "department", e.department)
	if e.managerDN != "" {
		if j, ok := r.byDN[e.managerDN]; ok && r.users[j].id != "" && r.users[j].held == "" {
			mgr := map[string]any{}
			put(mgr, "value", r.users[j].id)
			put(mgr, "displayName", r.users[j].display)
			if len(mgr) > 0 {
				ent["manager"] = mgr
			}
		}
	}
	if len(ent) > 0 {
		doc[scimattr.EnterpriseUser] = ent
	}
	return scimattr.Encode(doc)
}

// docReader is a reader holding three possible managers: "mgr" (id and
// display name as given), "held" (held back) and "noid" (no id).
func docReader(id, display string) *reader {
	return &reader{
		users: []user{
			{dn: "mgr", id: id, display: display},
			{dn: "held", id: "uuid-held", display: "Held", held: "no uid"},
			{dn: "noid", display: "No Id"},
		},
		byDN: map[string]int32{"mgr": 0, "held": 1, "noid": 2},
	}
}

// TestDocumentMatchesReference: the directly written document is the
// bytes scimattr.Encode gives for the same values, on values that
// json.Marshal escapes, trims or leaves out.
func TestDocumentMatchesReference(t *testing.T) {
	long := strings.Repeat("x", scimattr.MaxString)
	tricky := []struct{ name, v string }{
		{"plain", "Engineer"},
		{"empty", ""},
		{"html", `<script>alert("x")</script> & co`},
		{"quotes and backslashes", `a"b\c\\"d`},
		{"control characters", "a\x01b\x08c\x0cd\ne\rf\tg\x1fh\x7fi"},
		{"line separators", "a\u2028b\u2029c\u2027d"},
		{"invalid UTF-8", "a\xffb\xc3(c\xe2\x82d\xed\xa0\x80e"},
		{"truncated rune at end", "abc\xe2\x82"},
		{"non-ASCII", "Zoë Ångström 東京 🙂"},
		{"NUL", "a\x00b"},
		{"whitespace only", " \t\n\u00a0\u3000 "},
		{"surrounding whitespace", "\u2028 Head of <Ops> \u2029"},
		{"at MaxString", long},
		{"at MaxString after trimming", "  " + long + "\n"},
		{"over MaxString", long + "y"},
		{"escapes grow past MaxString", strings.Repeat("<", scimattr.MaxString)},
	}
	type tc struct {
		name string
		r    *reader
		e    *extra
	}
	var cases []tc
	for _, v := range tricky {
		cases = append(cases,
			tc{"title " + v.name, docReader("uuid-m", "M"), &extra{title: v.v}},
			tc{"employeeNumber " + v.name, docReader("uuid-m", "M"), &extra{employeeNumber: v.v}},
			tc{"department " + v.name, docReader("uuid-m", "M"), &extra{title: "T", department: v.v}},
			tc{"manager id " + v.name, docReader(v.v, "M"), &extra{managerDN: "mgr"}},
			tc{"manager display " + v.name, docReader("uuid-m", v.v), &extra{department: "D", managerDN: "mgr"}},
			tc{"all " + v.name, docReader(v.v, v.v), &extra{title: v.v, employeeNumber: v.v, department: v.v, managerDN: "mgr"}},
		)
	}
	cases = append(cases,
		tc{"nil", docReader("uuid-m", "M"), nil},
		tc{"nothing set", docReader("uuid-m", "M"), &extra{}},
		tc{"everything", docReader("uuid-m", "Mary Manager"),
			&extra{title: "CTO", employeeNumber: "42", department: "R&D", managerDN: "mgr"}},
		tc{"manager missing", docReader("uuid-m", "M"), &extra{title: "T", managerDN: "ghost"}},
		tc{"manager held", docReader("uuid-m", "M"), &extra{title: "T", managerDN: "held"}},
		tc{"manager without id", docReader("uuid-m", "M"), &extra{managerDN: "noid"}},
		tc{"manager without display name", docReader("uuid-m", ""), &extra{managerDN: "mgr"}},
		tc{"manager id blank, display kept", docReader("  ", "M"), &extra{managerDN: "mgr"}},
		tc{"manager id and display blank", docReader(" ", " "), &extra{title: "T", managerDN: "mgr"}},
		tc{"only the manager left out", docReader("uuid-m", "M"), &extra{managerDN: "held"}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := referenceDocument(c.r, c.e)
			got := c.r.document(c.e)
			if !bytes.Equal(got, want) {
				t.Fatalf("document\n got %q\nwant %q", got, want)
			}
			if (got == nil) != (want == nil) {
				t.Fatalf("document nil %v, reference nil %v", got == nil, want == nil)
			}
		})
	}
}

// TestDocumentShape pins a few documents literally, so that the
// reference itself cannot drift unnoticed.
func TestDocumentShape(t *testing.T) {
	const ent = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	r := docReader("uuid-m", "Mary <M>")
	for _, c := range []struct {
		name string
		e    *extra
		want string
	}{
		{"title", &extra{title: " a&b "}, `{"title":"a\u0026b"}`},
		{"enterprise", &extra{employeeNumber: "7", department: "Ops\u2028x"},
			`{` + ent + `:{"department":"Ops\u2028x","employeeNumber":"7"}}`},
		{"all", &extra{title: "T\x01", employeeNumber: "7", department: "D", managerDN: "mgr"},
			`{"title":"T\u0001",` + ent + `:{"department":"D","employeeNumber":"7","manager":{"displayName":"Mary \u003cM\u003e","value":"uuid-m"}}}`},
		{"invalid UTF-8", &extra{title: "a\xffb"}, `{"title":"a\ufffdb"}`},
		{"empty", &extra{title: "\x00", managerDN: "held"}, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := string(r.document(c.e)); got != c.want {
				t.Errorf("document %s, want %s", got, c.want)
			}
		})
	}
}

// FuzzDocument: for arbitrary values of the five fields (title,
// employeeNumber, department, the manager's id and display name) the
// directly written document is the reference's bytes. The manager is
// named by DN, held back or unknown as the last argument says.
func FuzzDocument(f *testing.F) {
	f.Add("Engineer", "7", "Ops", "uuid-m", "Mary", uint8(0))
	f.Add("", "", "", "", "", uint8(0))
	f.Add(" <a>&\"\\ ", "\x00", "\u2028\u2029", "\xff\xfe", "\t\n\r\b\f\x1f\x7f", uint8(0))
	f.Add("\xe2\x80", "\xed\xa0\x80", "é\u00a0", "  ", "東京 🙂", uint8(1))
	f.Add(strings.Repeat("<", 300), strings.Repeat("x", scimattr.MaxString+1), " ", "\x00id", "d", uint8(2))
	f.Add("t", "", "", "id", "", uint8(3))
	f.Fuzz(func(t *testing.T, title, number, dept, id, display string, mgr uint8) {
		r := docReader(id, display)
		e := &extra{title: title, employeeNumber: number, department: dept}
		switch mgr % 4 {
		case 0:
			e.managerDN = "mgr"
		case 1:
			e.managerDN = "held"
		case 2:
			e.managerDN = "ghost"
		}
		want := referenceDocument(r, e)
		if got := r.document(e); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("document\n got %q\nwant %q", got, want)
		}
	})
}

// BenchmarkDocument measures the member's document of a user with all
// four enterprise attributes (the manager one of the users read), written
// directly ("direct") and by the reference's maps and json.Marshal
// ("reference"), the floor and the former cost.
func BenchmarkDocument(b *testing.B) {
	const n = 1000
	r := &reader{byDN: map[string]int32{}}
	extras := make([]*extra, n)
	for i := range n {
		dn := fmt.Sprintf("uid=user%06d,ou=people,dc=example,dc=org", i)
		r.byDN[dn] = int32(i)
		r.users = append(r.users, user{dn: dn, id: fmt.Sprintf("6f1c2a3e-0000-1000-8000-%012d", i),
			display: fmt.Sprintf("User user%06d", i)})
		extras[i] = &extra{title: "Senior Engineer", employeeNumber: fmt.Sprintf("E%06d", i),
			department: "Research & Development", managerDN: fmt.Sprintf("uid=user%06d,ou=people,dc=example,dc=org", (i+1)%n)}
	}
	for _, bc := range []struct {
		name string
		doc  func(*extra) []byte
	}{
		{"direct", r.document},
		{"reference", func(e *extra) []byte { return referenceDocument(r, e) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for i := 0; b.Loop(); i++ {
				size = len(bc.doc(extras[i%n]))
			}
			b.ReportMetric(float64(size), "B/doc")
		})
	}
}
