package scimattr_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/scimattr"
)

func TestReadUser(t *testing.T) {
	const ent = scimattr.EnterpriseUser
	tests := []struct {
		name    string
		body    string
		want    string // the encoded document; "" for none
		badAttr string // the attribute an error names
	}{
		{"core attributes only: no document", `{"userName":"a","name":{"givenName":"A"},"emails":[{"value":"a@b"}]}`, "", ""},
		{"names in any case become canonical", `{"TITLE":"t","phonenumbers":[{"VALUE":"1","Primary":true}]}`,
			`{"phoneNumbers":[{"primary":true,"value":"1"}],"title":"t"}`, ""},
		{"null, empty and unknown are dropped", `{"title":null,"nickName":"","roles":[],"addresses":[{"planet":"x"}],"colour":"red","name":{"givenName":"A"}}`, "", ""},
		{"name keeps its other sub-attributes", `{"name":{"givenName":"A","formatted":"A B","middleName":"C"}}`,
			`{"name":{"formatted":"A B","middleName":"C"}}`, ""},
		{"string booleans become booleans", `{"ims":[{"value":"x","primary":"False"}]}`, `{"ims":[{"primary":false,"value":"x"}]}`, ""},
		{"one object for a multi-valued attribute", `{"photos":{"value":"https://p"}}`, `{"photos":[{"value":"https://p"}]}`, ""},
		{"the enterprise extension", `{"` + ent + `":{"employeeNumber":"2","manager":{"value":"m","$ref":"../Users/m","x":"y"}}}`,
			`{"` + ent + `":{"employeeNumber":"2","manager":{"$ref":"../Users/m","value":"m"}}}`, ""},
		{"the legacy manager string", `{"` + ent + `":{"manager":"m"}}`, `{"` + ent + `":{"manager":{"value":"m"}}}`, ""},
		{"an object for title", `{"title":{"value":"t"}}`, "", "title"},
		{"a string for phoneNumbers", `{"phoneNumbers":"1"}`, "", "phoneNumbers"},
		{"a non-boolean primary", `{"addresses":[{"primary":"yes"}]}`, "", "addresses.primary"},
		{"two primaries", `{"roles":[{"value":"a","primary":true},{"value":"b","primary":true}]}`, "", "roles.primary"},
		{"a number for employeeNumber", `{"` + ent + `":{"employeeNumber":7}}`, "", ent + ":employeeNumber"},
		{"a string for the extension", `{"` + ent + `":"x"}`, "", ent},
		{"too long a string", `{"title":"` + strings.Repeat("x", scimattr.MaxString+1) + `"}`, "", "title"},
		{"too many values", `{"entitlements":[` + strings.Repeat(`{"value":"e"},`, scimattr.MaxValues) + `{"value":"e"}]}`, "", "entitlements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			if err := json.Unmarshal([]byte(tt.body), &body); err != nil {
				t.Fatal(err)
			}
			doc, err := scimattr.ReadUser(body)
			var ve *scimattr.ValueError
			switch {
			case tt.badAttr != "":
				if !errors.As(err, &ve) || ve.Attr != tt.badAttr {
					t.Fatalf("error %v, want one naming %s", err, tt.badAttr)
				}
			case err != nil:
				t.Fatal(err)
			case string(scimattr.Encode(doc)) != tt.want:
				t.Fatalf("document %s, want %s", scimattr.Encode(doc), tt.want)
			}
		})
	}
}

func TestReadUserBoundsTheDocument(t *testing.T) {
	body := map[string]any{}
	for _, name := range []string{"phoneNumbers", "ims", "roles", "entitlements"} {
		var list []any
		for i := 0; i < scimattr.MaxValues; i++ {
			list = append(list, map[string]any{"value": strings.Repeat("v", 500)})
		}
		body[name] = list
	}
	if _, err := scimattr.ReadUser(body); !errors.Is(err, scimattr.ErrTooLarge) {
		t.Fatalf("a 200 kB document: %v, want ErrTooLarge", err)
	}
}
