package main

import (
	"encoding/base64"
	"io"
	"strings"
)

// entry is one LDIF record: a DN and attribute/value pairs in order.
type entry struct {
	dn    string
	attrs []string // name, value, name, value, …
}

// dir collects entries in the order slapadd needs (parents first).
type dir struct {
	suffix  string
	entries []*entry
	byDN    map[string]*entry
}

func newDir(suffix string) *dir { return &dir{suffix: suffix, byDN: map[string]*entry{}} }

func (d *dir) add(dn string, attrs ...string) {
	if len(attrs)%2 != 0 {
		panic("ldifgen: odd attribute list for " + dn)
	}
	e := &entry{dn: dn, attrs: attrs}
	d.entries = append(d.entries, e)
	d.byDN[strings.ToLower(dn)] = e
}

// write writes the entries, each member of a groupOfNames getting the
// memberOf value the overlay would have written (slapadd bypasses it).
func (d *dir) write(w io.Writer) error {
	memberOf := map[*entry][]string{}
	for _, e := range d.entries {
		if !e.has("objectClass", "groupOfNames") {
			continue
		}
		for i := 0; i < len(e.attrs); i += 2 {
			if e.attrs[i] == "member" {
				if m := d.byDN[strings.ToLower(e.attrs[i+1])]; m != nil {
					memberOf[m] = append(memberOf[m], e.dn)
				}
			}
		}
	}
	var b strings.Builder
	for _, e := range d.entries {
		b.Reset()
		line(&b, "dn", e.dn)
		for i := 0; i < len(e.attrs); i += 2 {
			line(&b, e.attrs[i], e.attrs[i+1])
		}
		for _, g := range memberOf[e] {
			line(&b, "memberOf", g)
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func (e *entry) has(name, value string) bool {
	for i := 0; i < len(e.attrs); i += 2 {
		if strings.EqualFold(e.attrs[i], name) && strings.EqualFold(e.attrs[i+1], value) {
			return true
		}
	}
	return false
}

// line writes one attribute line, base64 when the value is not an LDIF
// SAFE-STRING (RFC 2849): non-ASCII, or a leading space, colon or '<'.
func line(b *strings.Builder, name, value string) {
	if safe(value) {
		b.WriteString(name + ": " + value + "\n")
		return
	}
	b.WriteString(name + ":: " + base64.StdEncoding.EncodeToString([]byte(value)) + "\n")
}

func safe(v string) bool {
	if v == "" {
		return true
	}
	switch v[0] {
	case ' ', ':', '<':
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}
