// Package registry maps the `type` of a config entry to what that type
// needs, dex-style: the one place that knows every source type (and every
// target type) is the map it is registered in, and no switch on the type
// is written anywhere else.
//
// An entry (a source, a target) has fields common to all types — name,
// type, and whatever else its section shares — and one block per type,
// under the key that is the type's name:
//
//	sources:
//	  - {name: corp, type: ldap, ldap: {url: …}}
//
// Each block is a config type of its component that defaults and
// validates itself (Block), and that opens what it configures: a source
// config's Open(name, log) returns the source.
//
// Contract:
//   - Validate reports, joined in this order: an unknown type as
//     `type: "x" is not a, b or c`, naming every registered type; a block of
//     another type as `b: only for type b`; a missing block as `a: required
//     for type a`; then every problem of the block's own Validate, each as
//     the block says it (its key path, such as "ldap.url: …"). The caller
//     prefixes the entry. An Inline (flat) entry of an unknown type still
//     has its own keys validated, by the first Inline type's block.
//   - SetDefaults defaults the block of the entry's type, when both exist;
//     Open is called on valid, defaulted entries only.
//   - Register panics on an empty or repeated name: types are registered
//     once, at start (a package-level var or init).
//
// A new type registers in three steps: its component's config type gets
// SetDefaults, Validate (every problem, keyed ldap.url-style) and Open
// (resolving its secrets: a secret is read only when the entry is opened);
// the entry struct (cmd/orgsync SourceConfig, or the targets' entry) gets
// a pointer field for the block, `yaml:"NAME,omitempty"`; and one
// Register call names the type, says where the block is and how to open
// it:
//
//	var sourceTypes = registry.New[SourceConfig, reconciler.Source]("source")
//
//	func init() {
//		sourceTypes.Register("ldap", registry.Type[SourceConfig, reconciler.Source]{
//			Block: func(s *SourceConfig) registry.Block { return registry.Optional(s.LDAP) },
//			Open: func(s *SourceConfig, log zerolog.Logger) (reconciler.Source, error) {
//				return s.LDAP.Open(s.Name, log)
//			},
//		})
//	}
//
// An entry whose type only picks a dialect of one flat config (targets of
// type kms or scim, say) registers each type with Inline set and a Block
// returning the entry itself: the type is still checked against the
// registered names, and the entry defaults, validates and opens through
// the registry all the same.
//
// docs/config.md documents the block; config.example.yaml shows it.
package registry
