package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func generate(t *testing.T, fill func(*dir)) string {
	t.Helper()
	d := newDir("dc=example,dc=org")
	fill(d)
	var b bytes.Buffer
	if err := d.write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The committed fixture is what the generator writes: regenerate it with
// go run ./tools/ldifgen -mode fixture > sources/ldap/testdata/fixture.ldif
func TestFixtureIsUpToDate(t *testing.T) {
	want, err := os.ReadFile("../../sources/ldap/testdata/fixture.ldif")
	if err != nil {
		t.Fatal(err)
	}
	if got := generate(t, fixture); got != string(want) {
		t.Error("sources/ldap/testdata/fixture.ldif is stale: regenerate it with tools/ldifgen -mode fixture")
	}
}

func TestBench(t *testing.T) {
	out := generate(t, func(d *dir) { bench(d, 1000, 10, 200) })
	for _, c := range []struct {
		what string
		n    int
	}{
		{"\ndn: uid=user", 1000},
		{"\ndn: cn=group", 10},
		{"\nmember: ", 2000},
		{"\nmemberOf: ", 2000},
		{"\nemployeeType: disabled", 20},
	} {
		if got := strings.Count(out, c.what); got != c.n {
			t.Errorf("%d × %q, want %d", got, strings.TrimSpace(c.what), c.n)
		}
	}
}

func TestLineEncoding(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"plain", "cn: plain\n"},
		{"Zoë", "cn:: Wm/Dqw==\n"},
		{" leading space", "cn:: IGxlYWRpbmcgc3BhY2U=\n"},
		{":colon", "cn:: OmNvbG9u\n"},
	} {
		var b strings.Builder
		line(&b, "cn", tc.value)
		if b.String() != tc.want {
			t.Errorf("line(%q) = %q, want %q", tc.value, b.String(), tc.want)
		}
	}
}
