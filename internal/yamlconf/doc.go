// Package yamlconf decodes a YAML config file into Go structs the strict
// way: every key must name a field, every value must fit its field, and a
// file with problems is read to its end so that all of them are listed at
// once, each with its line.
//
// Contract:
//   - ${VAR} anywhere in a value is replaced by the environment variable's
//     value before the value is typed (a duration or a number may come from
//     the environment too). An unset variable is a problem, except in a field
//     of type orgsync.Secret: there the field is left empty and the variable
//     is returned in Result.Unset, so that only the commands that use the
//     secret fail for want of it.
//   - A key with no field (yaml.v3's names: the tag, else the lower-cased
//     field name, ",inline" structs included), a value of the wrong kind, and
//     a value its type's UnmarshalText refuses (durations, addresses) are
//     problems. Each is reported as "line N: …" with the key path where the
//     type is known, and decoding goes on as if the value were not set.
//   - Decode returns an *Error listing every problem, sorted by line, with
//     the value decoded as far as it goes; any other error (a YAML syntax
//     error) means nothing was decoded.
//   - Secrets are found by their type, orgsync.Secret, never by key names:
//     Result.Inline lists those whose value is written in the file itself
//     rather than taken from ${VAR}. No secret's value is ever part of an
//     error or a Result.
package yamlconf
