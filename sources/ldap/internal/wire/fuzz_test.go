package wire

import (
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// within reports whether v is a view into buf (or empty): a decoded entry
// must point into the read buffer, never at a copy.
func within(v, buf []byte) bool {
	if cap(v) == 0 {
		return true
	}
	return &v[:cap(v)][cap(v)-1] == &buf[:cap(buf)][cap(buf)-1]
}

// FuzzDecode feeds arbitrary LDAPMessage contents through every decoder of
// the package: nothing panics, a decoded entry is a view into the message,
// and an entry encoded again decodes to the same entry.
func FuzzDecode(f *testing.F) {
	pc := goldap.NewControlPaging(100)
	pc.SetCookie([]byte("c"))
	f.Add(content(encodeMessage(2, entryOp("uid=a,dc=x", []string{"uid", "member"}, map[string][]string{"uid": {"a"}, "member": {"cn=1", "cn=2"}}))))
	f.Add(content(encodeMessage(2, resultOp(goldap.ApplicationSearchResultDone, 0, ""), pc)))
	f.Add(content(encodeMessage(2, resultOp(goldap.ApplicationSearchResultDone, 10, "elsewhere"))))
	f.Add([]byte{0x02, 0x01, 0x01, 0x64, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		msg = msg[:len(msg):len(msg)]
		var e Entry
		ok, err := DecodeEntry(msg, &e)
		if m, err := parseMessage(msg); err == nil {
			_ = resultError(m.body)
			_, _ = parseReference(m.body)
			_, _, _ = parsePaging(m.controls)
		}
		if !ok || err != nil {
			return
		}
		if !within(e.DN, msg) {
			t.Fatalf("DN %q is a copy", e.DN)
		}
		again := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "")
		again.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(e.DN), ""))
		list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		for _, a := range e.Attrs {
			if !within(a.Name, msg) {
				t.Fatalf("name %q is a copy", a.Name)
			}
			p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
			p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(a.Name), ""))
			set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
			for _, v := range a.Values {
				if !within(v, msg) {
					t.Fatalf("value %q is a copy", v)
				}
				set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(v), ""))
			}
			p.AppendChild(set)
			list.AppendChild(p)
		}
		again.AppendChild(list)
		want := dump(&e)
		var e2 Entry
		if ok, err := DecodeEntry(content(encodeMessage(1, again)), &e2); !ok || err != nil || dump(&e2) != want {
			t.Fatalf("re-encoded entry decodes to %q, %v, %v; want %q", dump(&e2), ok, err, want)
		}
	})
}
