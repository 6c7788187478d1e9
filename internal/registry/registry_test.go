package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

type fakeBlock struct {
	URL       string
	defaulted bool
}

func (b *fakeBlock) SetDefaults() { b.defaulted = true }

func (b *fakeBlock) Validate() error {
	if b.URL == "" {
		return errors.Join(errors.New("fake.url: required"), errors.New("fake.url: second problem"))
	}
	return nil
}

type entry struct {
	Name  string
	Alpha *fakeBlock
	Beta  *fakeBlock
}

func testRegistry() *Registry[entry, string] {
	r := New[entry, string]("thing")
	r.Register("beta", Type[entry, string]{
		Block: func(e *entry) Block { return Optional(e.Beta) },
		Open:  func(e *entry, _ zerolog.Logger) (string, error) { return "beta " + e.Name + " " + e.Beta.URL, nil },
	})
	r.Register("alpha", Type[entry, string]{
		Block: func(e *entry) Block { return Optional(e.Alpha) },
		Open:  func(e *entry, _ zerolog.Logger) (string, error) { return "alpha " + e.Name, nil },
	})
	return r
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  string
		e    entry
		want []string
	}{
		{"valid", "alpha", entry{Alpha: &fakeBlock{URL: "x"}}, nil},
		{"unknown type lists the valid ones", "ftp", entry{}, []string{`type: "ftp" is not alpha or beta`}},
		{"unknown type, with blocks", "ftp", entry{Beta: &fakeBlock{URL: "x"}}, []string{`type: "ftp" is not alpha or beta`, "beta: only for type beta"}},
		{"block missing", "beta", entry{}, []string{"beta: required for type beta"}},
		{"other block set", "beta", entry{Alpha: &fakeBlock{URL: "x"}, Beta: &fakeBlock{URL: "y"}}, []string{"alpha: only for type alpha"}},
		{"every problem of the block", "alpha", entry{Alpha: &fakeBlock{}}, []string{"fake.url: required", "fake.url: second problem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if err := testRegistry().Validate(tc.typ, &tc.e); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("problems = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDefaultsAndOpen(t *testing.T) {
	r := testRegistry()
	e := entry{Name: "n", Beta: &fakeBlock{URL: "u"}}
	r.SetDefaults("beta", &e)
	r.SetDefaults("alpha", &e) // no alpha block: nothing to default
	r.SetDefaults("ftp", &e)
	if !e.Beta.defaulted {
		t.Fatal("the beta block was not defaulted")
	}
	if got, err := r.Open("beta", &e, zerolog.Nop()); err != nil || got != "beta n u" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := r.Open("alpha", &e, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "alpha: required") {
		t.Fatalf("Open without its block: %v", err)
	}
	if _, err := r.Open("ftp", &e, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "is not alpha or beta") {
		t.Fatalf("Open of an unknown type: %v", err)
	}
	if got := r.Names(); fmt.Sprint(got) != "[alpha beta]" {
		t.Fatalf("Names = %v", got)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	r := testRegistry()
	defer func() {
		if recover() == nil {
			t.Fatal("a second alpha was registered")
		}
	}()
	r.Register("alpha", Type[entry, string]{Block: func(*entry) Block { return nil }, Open: func(*entry, zerolog.Logger) (string, error) { return "", nil }})
}

func TestOrList(t *testing.T) {
	for n, want := range map[int]string{1: "a", 2: "a or b", 3: "a, b or c"} {
		if got := orList([]string{"a", "b", "c"}[:n]); got != want {
			t.Errorf("orList(%d) = %q, want %q", n, got, want)
		}
	}
}

// A flat entry is its own block: its types neither require nor refuse a
// block key.
type flat struct {
	Dialect string
	URL     string
}

func (f *flat) SetDefaults() {}

func (f *flat) Validate() error {
	if f.URL == "" {
		return errors.New("url: required")
	}
	return nil
}

func TestInlineTypes(t *testing.T) {
	r := New[flat, string]("target")
	for _, name := range []string{"kms", "scim"} {
		r.Register(name, Type[flat, string]{
			Inline: true,
			Block:  func(f *flat) Block { return f },
			Open:   func(f *flat, _ zerolog.Logger) (string, error) { return f.Dialect + " " + f.URL, nil },
		})
	}
	for typ, want := range map[string]string{
		"kms":  "<nil>",
		"scim": "url: required",
		"ldap": "type: \"ldap\" is not kms or scim\nurl: required", // the flat keys are still checked
	} {
		f := flat{Dialect: typ}
		if typ == "kms" {
			f.URL = "https://kms.example.org"
		}
		if got := fmt.Sprint(r.Validate(typ, &f)); got != want {
			t.Errorf("Validate(%s) = %s, want %s", typ, got, want)
		}
	}
	if got, err := r.Open("kms", &flat{Dialect: "kms", URL: "u"}, zerolog.Nop()); err != nil || got != "kms u" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}
