package scimattr

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		obj   string // a JSON object
		key   string
		want  any
		found bool
	}{
		{"exact", `{"userName":"a"}`, "userName", "a", true},
		{"other case", `{"username":"a"}`, "userName", "a", true},
		{"upper case asked", `{"userName":"a"}`, "USERNAME", "a", true},
		{"absent", `{"userName":"a"}`, "displayName", nil, false},
		{"present and null", `{"displayName":null}`, "displayname", nil, true},
		{"empty object", `{}`, "id", nil, false},
		{"exact spelling beats others", `{"username":"lower","userName":"exact","USERNAME":"upper"}`, "userName", "exact", true},
		{"exact spelling beats others, lower asked", `{"USERNAME":"upper","userName":"mixed","username":"lower"}`, "username", "lower", true},
		{"no exact: first in byte order", `{"username":"lower","UserName":"mixed","USERNAME":"upper"}`, "userName", "upper", true},
		{"no exact, two spellings", `{"username":"lower","UserName":"mixed"}`, "userName", "mixed", true},
		{"no exact, listed in another order", `{"UserName":"mixed","username":"lower"}`, "USERNAME", "mixed", true},
		{"a prefix is no match", `{"userNames":"x"}`, "userName", nil, false},
		{"URN keys", `{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"a":1}}`,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", map[string]any{"a": json.Number("1")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Decoded many times: map order must not matter.
			for range 20 {
				var obj map[string]any
				d := json.NewDecoder(strings.NewReader(tc.obj))
				d.UseNumber()
				if err := d.Decode(&obj); err != nil {
					t.Fatal(err)
				}
				got, found := Get(obj, tc.key)
				if found != tc.found || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Get(%s, %q) = %v, %v; want %v, %v", tc.obj, tc.key, got, found, tc.want, tc.found)
				}
			}
		})
	}
	if v, ok := Get(nil, "id"); v != nil || ok {
		t.Errorf("Get(nil) = %v, %v", v, ok)
	}
}

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want bool
		ok   bool
	}{
		{true, true, true},
		{false, false, true},
		{"true", true, true},
		{"True", true, true},
		{"TRUE", true, true},
		{" false ", false, true},
		{"False", false, true},
		{"yes", false, false},
		{"1", false, false},
		{"", false, false},
		{json.Number("1"), false, false},
		{1.0, false, false},
		{nil, false, false},
		{[]any{true}, false, false},
	} {
		if got, ok := Bool(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("Bool(%#v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
