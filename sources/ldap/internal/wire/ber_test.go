package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

func TestTLV(t *testing.T) {
	long := append([]byte{0x04, 0x82, 0x01, 0x00}, bytes.Repeat([]byte{'x'}, 256)...)
	for _, tc := range []struct {
		name    string
		in      []byte
		tag     byte
		content string
		rest    string
		bad     bool
	}{
		{"short form", []byte{0x04, 0x02, 'h', 'i', 0xff}, 0x04, "hi", "\xff", false},
		{"empty content", []byte{0x30, 0x00}, 0x30, "", "", false},
		{"long form", long, 0x04, strings.Repeat("x", 256), "", false},
		{"long form, one byte", []byte{0x04, 0x81, 0x01, 'a'}, 0x04, "a", "", false},
		{"truncated content", []byte{0x04, 0x03, 'a'}, 0, "", "", true},
		{"indefinite length", []byte{0x30, 0x80, 0x00, 0x00}, 0, "", "", true},
		{"five length bytes", []byte{0x04, 0x85, 0, 0, 0, 0, 1, 'a'}, 0, "", "", true},
		{"length bytes missing", []byte{0x04, 0x82, 0x01}, 0, "", "", true},
		{"multi-byte tag", []byte{0x1f, 0x01, 0x00}, 0, "", "", true},
		{"one byte", []byte{0x04}, 0, "", "", true},
		{"nothing", nil, 0, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag, content, rest, err := tlv(tc.in)
			if tc.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("tlv = %x %q %q %v, want ErrMalformed", tag, content, rest, err)
				}
				return
			}
			if err != nil || tag != tc.tag || string(content) != tc.content || string(rest) != tc.rest {
				t.Fatalf("tlv = %x %q %q %v, want %x %q %q", tag, content, rest, err, tc.tag, tc.content, tc.rest)
			}
		})
	}
}

func TestBerInt(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want int64
		bad  bool
	}{
		{[]byte{0x00}, 0, false},
		{[]byte{0x7f}, 127, false},
		{[]byte{0x00, 0x80}, 128, false},
		{[]byte{0xff}, -1, false},
		{[]byte{0xff, 0x7f}, -129, false},
		{[]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1<<63 - 1, false},
		{nil, 0, true},
		{make([]byte, 9), 0, true},
	} {
		got, err := berInt(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("berInt(%x) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// ldapResult is the body of an LDAPResult, with optional referral URLs.
func ldapResult(code int, matched, diag string, refs ...string) []byte {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultDone, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, ""))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, matched, ""))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, ""))
	if len(refs) > 0 {
		r := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "")
		for _, u := range refs {
			r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, u, ""))
		}
		p.AppendChild(r)
	}
	return p.Data.Bytes()
}

func TestResultError(t *testing.T) {
	if err := resultError(ldapResult(0, "", "")); err != nil {
		t.Errorf("success: %v", err)
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		code    uint16
		msg     string
		matched string
	}{
		{"invalid credentials", ldapResult(49, "", " bad password \n"), 49, "bad password", ""},
		{"no such object", ldapResult(32, "dc=example,dc=org", ""), 32, "", "dc=example,dc=org"},
		{"referral", ldapResult(10, "", "go elsewhere", "ldap://a/dc=x", "ldap://b/dc=x"), 10,
			"go elsewhere (referral to ldap://a/dc=x, ldap://b/dc=x)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var le *goldap.Error
			if err := resultError(tc.body); !errors.As(err, &le) {
				t.Fatalf("resultError = %v, want a *goldap.Error", err)
			}
			if le.ResultCode != tc.code || le.Err.Error() != tc.msg || le.MatchedDN != tc.matched {
				t.Errorf("got code %d, %q, matched %q; want %d, %q, %q", le.ResultCode, le.Err, le.MatchedDN, tc.code, tc.msg, tc.matched)
			}
		})
	}
	for _, body := range [][]byte{nil, {0x0a, 0x01, 0x00}, {0x04, 0x00}} {
		if err := resultError(body); !errors.Is(err, ErrMalformed) {
			t.Errorf("resultError(%x) = %v, want ErrMalformed", body, err)
		}
	}
}

// controls encodes the [0] controls of a message.
func controls(cs ...goldap.Control) []byte {
	p := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
	for _, c := range cs {
		p.AppendChild(c.Encode())
	}
	return p.Data.Bytes()
}

func TestParsePaging(t *testing.T) {
	paged := goldap.NewControlPaging(0)
	paged.SetCookie([]byte("next"))
	critical := goldap.NewControlString("1.2.3.4", true, "x")
	// The paged-results control without its value.
	bare := []byte{0x30, 0x18, 0x04, 0x16}
	bare = append(bare, goldap.ControlTypePaging...)
	for _, tc := range []struct {
		name   string
		in     []byte
		cookie string
		found  bool
		bad    bool
	}{
		{"none", nil, "", false, false},
		{"paging", controls(paged), "next", true, false},
		{"after another control", controls(critical, paged), "next", true, false},
		{"only another control", controls(critical), "", false, false},
		{"last page", controls(goldap.NewControlPaging(0)), "", true, false},
		{"paging without value", bare, "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cookie, found, err := parsePaging(tc.in)
			if tc.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("parsePaging = %q %v %v, want ErrMalformed", cookie, found, err)
				}
				return
			}
			if err != nil || found != tc.found || string(cookie) != tc.cookie {
				t.Errorf("parsePaging = %q %v %v, want %q %v", cookie, found, err, tc.cookie, tc.found)
			}
		})
	}
}

// encodeMessage encodes an LDAPMessage's content: id, op and controls.
func encodeMessage(id int64, op *ber.Packet, ctrls ...goldap.Control) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	p.AppendChild(op)
	if len(ctrls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
		for _, c := range ctrls {
			cs.AppendChild(c.Encode())
		}
		p.AppendChild(cs)
	}
	return p.Bytes()
}

// entryOp is a SearchResultEntry; attrs maps a name to its values, in the
// order of names.
func entryOp(dn string, names []string, attrs map[string][]string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, ""))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, n := range names {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, n, ""))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		for _, v := range attrs[n] {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, ""))
		}
		a.AppendChild(set)
		list.AppendChild(a)
	}
	op.AppendChild(list)
	return op
}

// content strips the SEQUENCE header of an encoded LDAPMessage, leaving
// what the client reads into its buffer.
func content(msg []byte) []byte {
	_, c, _, err := tlv(msg)
	if err != nil {
		panic(err)
	}
	return c
}

// dump renders an entry for comparison.
func dump(e *Entry) string {
	var b strings.Builder
	b.Write(e.DN)
	for _, a := range e.Attrs {
		b.WriteString("|" + string(a.Name) + "=")
		for i, v := range a.Values {
			if i > 0 {
				b.WriteString(",")
			}
			b.Write(v)
		}
	}
	return b.String()
}

func TestDecodeEntry(t *testing.T) {
	var e Entry
	for _, tc := range []struct {
		name string
		msg  []byte
		ok   bool
		want string
		bad  bool
	}{
		{"entry", content(encodeMessage(3, entryOp("uid=a,dc=x", []string{"uid", "mail", "member"},
			map[string][]string{"uid": {"a"}, "mail": {"a@x"}, "member": {"cn=1", "cn=2", ""}}))), true,
			"uid=a,dc=x|uid=a|mail=a@x|member=cn=1,cn=2,", false},
		{"no attributes, after a larger one (slices reused)", content(encodeMessage(3, entryOp("cn=b", nil, nil))), true, "cn=b", false},
		{"attribute without values", content(encodeMessage(3, entryOp("cn=c", []string{"cn"}, nil))), true, "cn=c|cn=", false},
		{"another operation", content(encodeMessage(3, ber.NewString(ber.ClassApplication, ber.TypePrimitive, goldap.ApplicationSearchResultReference, "", ""))), false, "", false},
		{"done with controls", content(encodeMessage(3, ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultDone, nil, ""),
			goldap.NewControlPaging(0))), false, "", false},
		{"truncated", content(encodeMessage(3, entryOp("uid=a,dc=x", []string{"uid"}, map[string][]string{"uid": {"a"}})))[:12], false, "", true},
		{"id not an integer", []byte{0x04, 0x01, 0x01, 0x64, 0x00}, false, "", true},
		{"controls not [0]", []byte{0x02, 0x01, 0x01, 0x65, 0x00, 0x04, 0x00}, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := DecodeEntry(tc.msg, &e)
			if tc.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("DecodeEntry = %v, %v; want ErrMalformed", ok, err)
				}
				return
			}
			if err != nil || ok != tc.ok {
				t.Fatalf("DecodeEntry = %v, %v; want %v", ok, err, tc.ok)
			}
			if ok && dump(&e) != tc.want {
				t.Errorf("entry = %q, want %q", dump(&e), tc.want)
			}
		})
	}
}

func TestParseReference(t *testing.T) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultReference, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "ldap://a/dc=x", ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "ldap://b/dc=x", ""))
	urls, err := parseReference(op.Data.Bytes())
	if err != nil || strings.Join(urls, " ") != "ldap://a/dc=x ldap://b/dc=x" {
		t.Errorf("parseReference = %q, %v", urls, err)
	}
	if _, err := parseReference([]byte{0x02, 0x01, 0x00}); !errors.Is(err, ErrMalformed) {
		t.Errorf("a reference that is not a string: %v", err)
	}
}
