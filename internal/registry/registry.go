package registry

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rs/zerolog"
)

// Block is the config block of one type (`ldap:` of a source of type ldap).
type Block interface {
	SetDefaults()
	// Validate returns every problem, each naming its key ("ldap.url: …").
	Validate() error
}

// Optional is the block p points to, or nil when p is nil (an untyped nil,
// unlike a nil pointer held in a Block).
func Optional[C any, P interface {
	*C
	Block
}](p P) Block {
	if p == nil {
		return nil
	}
	return p
}

// Type is what a Registry knows of one type of entry E, opening a T.
type Type[E, T any] struct {
	// Block is the entry's block of this type, nil when it has none (see
	// Optional).
	Block func(e *E) Block
	// Open builds what the valid, defaulted entry configures. It reads the
	// entry's secrets, so its error says which are missing.
	Open func(e *E, log zerolog.Logger) (T, error)
	// Inline says the entry is its own block: its keys sit beside name and
	// type (a flat entry, whose type picks a dialect of one config), so no
	// block key is required for the type or refused for the others.
	Inline bool
}

// Registry maps type names to types of entry E.
type Registry[E, T any] struct {
	kind  string
	types map[string]Type[E, T]
}

// New returns an empty registry of kind ("source", "target"), the word its
// errors use.
func New[E, T any](kind string) *Registry[E, T] {
	return &Registry[E, T]{kind: kind, types: map[string]Type[E, T]{}}
}

// Register adds the type called name.
func (r *Registry[E, T]) Register(name string, t Type[E, T]) {
	if name == "" || t.Block == nil || t.Open == nil {
		panic(fmt.Sprintf("registry: %s type %q: incomplete", r.kind, name))
	}
	if _, dup := r.types[name]; dup {
		panic(fmt.Sprintf("registry: %s type %q registered twice", r.kind, name))
	}
	r.types[name] = t
}

// Names are the registered type names, sorted.
func (r *Registry[E, T]) Names() []string {
	return slices.Sorted(maps.Keys(r.types))
}

// SetDefaults defaults e's block of type typ, if both exist.
func (r *Registry[E, T]) SetDefaults(typ string, e *E) {
	if t, ok := r.types[typ]; ok {
		if b := t.Block(e); b != nil {
			b.SetDefaults()
		}
	}
}

// Validate lists every problem of e's type and blocks (see the package
// doc), joined (errors.Join) in that order; nil when there are none.
func (r *Registry[E, T]) Validate(typ string, e *E) error {
	var errs []error
	t, ok := r.types[typ]
	if !ok {
		errs = append(errs, fmt.Errorf("type: %q is not %s", typ, orList(r.Names())))
	}
	for _, name := range r.Names() {
		if other := r.types[name]; name != typ && !other.Inline && other.Block(e) != nil {
			errs = append(errs, fmt.Errorf("%s: only for type %s", name, name))
		}
	}
	if !ok {
		// A flat entry is its own block whatever its type: its keys are
		// still checked, so one start-up lists every problem.
		for _, name := range r.Names() {
			if other := r.types[name]; other.Inline {
				if b := other.Block(e); b != nil {
					errs = append(errs, b.Validate())
				}
				break
			}
		}
	}
	if ok {
		if b := t.Block(e); b == nil {
			errs = append(errs, fmt.Errorf("%s: required for type %s", typ, typ))
		} else {
			errs = append(errs, b.Validate())
		}
	}
	return errors.Join(errs...)
}

// Open opens e, of type typ.
func (r *Registry[E, T]) Open(typ string, e *E, log zerolog.Logger) (T, error) {
	var zero T
	t, ok := r.types[typ]
	switch {
	case !ok:
		return zero, fmt.Errorf("type: %q is not %s", typ, orList(r.Names()))
	case t.Block(e) == nil:
		return zero, fmt.Errorf("%s: required for type %s", typ, typ)
	}
	return t.Open(e, log)
}

// orList writes "a", "a or b", "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "any registered type (none are)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
