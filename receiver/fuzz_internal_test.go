package receiver

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// badRequestOnly fails unless err is nil or a SCIM error with a 4xx status.
func badRequestOnly(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *scimError
	if !errors.As(err, &se) || se.status < 400 || se.status > 499 {
		t.Fatalf("error %v is not a 4xx SCIM error", err)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range append(simpleSeeds, `emails[type eq "work"].value eq "x"`, `emails[type eq "work" and value co "@"]`,
		`meta.lastModified gt "2026-01-01T00:00:00Z" or not (active eq false)`, `members[value eq "x"]`,
		`urn:hanzo:params:scim:schemas:extension:kms:2.0:User:setupStatus eq "pending_setup"`, `((((userName pr))))`,
		`title pr`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "2"`,
		`addresses[type eq "work"].locality eq "Oslo"`, `phoneNumbers[primary eq true and value sw "+47"]`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`, `x509Certificates.value eq "MII"`) {
		f.Add(resourceUsers, s)
		f.Add(resourceGroups, s)
	}
	f.Fuzz(func(t *testing.T, resource, raw string) {
		if resource != resourceUsers && resource != resourceGroups {
			return
		}
		got, err := parseFilter(resource, raw)
		badRequestOnly(t, err)
		if err == nil && got == nil {
			t.Fatal("no filter and no error")
		}
	})
}

var patchSeeds = []string{
	`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@b"}]}`,
	`{"Operations":[{"op":"replace","value":{"name.givenName":"X","urn:ietf:params:scim:schemas:core:2.0:User:displayName":"D","active":"False"}}]}`,
	`{"Operations":[{"op":"add","path":"emails","value":[{"value":"x@y","primary":true},{"value":"z@y","primary":"True"}]}]}`,
	`{"Operations":[{"op":"remove","path":"emails[value co \"@\"]"},{"op":"remove","path":"members","value":[{"value":"a"}]}]}`,
	`{"Operations":[{"op":"replace","path":"members","value":[]},{"op":"replace","value":{"id":"g","displayName":"n"}}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}]}`,
	`{"Operations":[{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"1"},{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].primary","value":"True"}]}`,
	`{"Operations":[{"op":"replace","value":{"title":"T","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"D","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m"}}}]}`,
	`{"Operations":[{"op":"add","path":"addresses","value":[{"type":"work","primary":true},{"type":"home","primary":true}]},{"op":"remove","path":"addresses[type eq \"home\"].primary"}]}`,
	`{"Operations":[{"op":"Add","path":"manager","value":[{"$ref":"../Users/x","value":"x"}]},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
}

// FuzzPatch: PATCH bodies of any shape are applied or refused with a 4xx,
// never a panic, and a user keeps at most one primary email.
func FuzzPatch(f *testing.F) {
	for _, s := range patchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPatch, "/Users/x", bytes.NewReader(body))
		doc, err := readBody(r, 1<<20)
		if err != nil {
			badRequestOnly(t, err)
			return
		}
		ops, err := parsePatch(doc)
		if err != nil {
			badRequestOnly(t, err)
			return
		}
		m := orgsync.Member{UserName: "u@example.org", Emails: []orgsync.Email{{Value: "u@example.org", Type: "work", Primary: true}}}
		err = applyUserPatch(&m, ops)
		badRequestOnly(t, err)
		primaries := 0
		for _, e := range m.Emails {
			if e.Primary {
				primaries++
			}
		}
		if err == nil && primaries > 1 {
			t.Fatalf("%d primary emails: %+v", primaries, m.Emails)
		}
		// What a PATCH leaves is a valid document, as a POST of it would be.
		if err == nil && len(m.Attributes) > 0 {
			stored, derr := scimattr.Decode(m.Attributes)
			if derr != nil {
				t.Fatalf("the document does not decode: %v", derr)
			}
			if _, verr := scimattr.ReadUser(stored); verr != nil {
				t.Fatalf("the document left by a PATCH is invalid: %v\n%s", verr, m.Attributes)
			}
		}
		_, err = groupPatch(ops)
		badRequestOnly(t, err)
	})
}

// FuzzUserBody: POST bodies are parsed or refused with a 4xx.
func FuzzUserBody(f *testing.F) {
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","emails":[{"value":"a@b","primary":"True"}],"active":"false"}`))
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"a"},"b"]}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","title":"t","phoneNumbers":[{"value":"1","primary":"True"}],` +
		`"addresses":[{"locality":"x","primary":false}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m","employeeNumber":"1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/Users", bytes.NewReader(body))
		doc, err := readBody(r, 1<<20)
		if err != nil {
			badRequestOnly(t, err)
			return
		}
		in, err := parseUser(doc)
		badRequestOnly(t, err)
		if err == nil && len(in.m.Attributes) > 0 {
			again, derr := scimattr.Decode(in.m.Attributes)
			if derr != nil {
				t.Fatalf("the document does not decode: %v", derr)
			}
			re, verr := scimattr.ReadUser(again) // a stored document reads back as itself
			if verr != nil || !bytes.Equal(scimattr.Encode(re), in.m.Attributes) {
				t.Fatalf("the stored document does not read back as itself: %v\n%s\n%s", verr, in.m.Attributes, scimattr.Encode(re))
			}
		}
		_, err = parseGroup(doc)
		badRequestOnly(t, err)
	})
}
