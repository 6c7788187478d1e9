package scim

import (
	"encoding/json"
	"testing"

	filter "github.com/scim2/filter-parser/v2"
)

// TestMayMatch: the local check drops a resource only when its own values
// prove the filter false; anything uncertain is kept.
func TestMayMatch(t *testing.T) {
	res, err := decodeObject(json.RawMessage(`{
		"id": "u1", "userName": "Alice@Example.org", "active": "False", "externalId": "ABC",
		"name": {"givenName": "Alice", "familyName": "Liddell"},
		"emails": [{"value": "alice@home.example", "type": "home"},
		           {"value": "alice@example.org", "type": "work", "primary": true}],
		"meta": {"lastModified": "2026-03-01T08:30:00Z"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "costCenter": 42},
		"x-quote": "say \"hi\""
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`userName eq "Alice@Example.org"`, true},
		{`userName eq "bob@example.org"`, false},
		{`USERNAME EQ "Alice@Example.org"`, true},
		{`userName eq "alice@example.org"`, true}, // caseExact is the server's call
		{`userName ne "alice@example.org"`, true},
		{`userName ne "Alice@Example.org"`, false},
		{`userName sw "Alice"`, true},
		{`userName sw "bob"`, false},
		{`userName ew "@example.org"`, true},
		{`userName co "xyz"`, false},
		{`active eq true`, false}, // "False" as a string
		{`active eq false`, true},
		{`active ne false`, false},
		{`active gt true`, true}, // not a comparison we can judge
		{`externalId pr`, true},
		{`title pr`, true},       // not shown: the server may know better
		{`title eq "CEO"`, true}, // likewise
		{`groups.value eq "g1"`, true},
		{`name.familyName eq "Liddell"`, true},
		{`name.familyName eq "Carroll"`, false},
		{`emails.value eq "alice@example.org"`, true},
		{`emails co "home.example"`, true},
		{`emails co "nowhere"`, false},
		{`emails[type eq "work" and value ew "@example.org"]`, true},
		{`emails[type eq "work" and value ew "@home.example"]`, false},
		{`emails[type eq "other"]`, false},
		{`meta.lastModified gt "2026-01-01T00:00:00Z"`, true},
		{`meta.lastModified gt "2026-06-01T00:00:00+02:00"`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter ge 40`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter lt 40`, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "Alice"`, true},
		{`x-quote eq "say \"hi\""`, true},
		{`x-quote eq "say \"bye\""`, false},
		{`userName eq "bob" or active eq false`, true},
		{`userName eq "bob" or active eq true`, false},
		{`userName sw "A" and active eq true`, false},
		{`userName sw "A" and title eq "x"`, true},
		{`userName eq "bob" and title eq "x"`, false},
		{`not (userName eq "bob")`, true},
		{`not (userName sw "Alice")`, false},
		{`not (title eq "x")`, true},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := filter.ParseFilter([]byte(tc.filter))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := mayMatch(f, res); got != tc.want {
				t.Errorf("mayMatch = %v, want %v", got, tc.want)
			}
		})
	}
}
