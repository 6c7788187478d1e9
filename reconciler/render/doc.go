// Package render writes the reconciler's reports for people and tools:
// text (optionally coloured), markdown and JSON, the format of
// `orgsync plan|reconcile|purge --format json` documented in
// docs/formats.md. The reconciler computes reports (reconciler.Report)
// and knows nothing of how they are shown; this package reads them and
// imports nothing but the reconciler and the domain types.
//
// # JSON
//
// The document carries "format_version" (FormatVersion) beside "runs" and,
// when there are any, "orphans". It has one layout at every size, that of
// json.Encoder with a two-space indent, and is written as it goes: each
// run's head is encoded with its long lists (changes, members awaiting
// setup) empty, and those are streamed element by element into the gaps.
// The output is byte for byte the encoding of the whole document.
//
// # Text and markdown
//
// Changes are listed by action in apply order, written as they go (the
// plan's changes are never copied). Options.PerAction caps each action's
// list, for a terminal, with a line saying how many more there are and
// how to list them. Every report ends with the members awaiting
// master-key creation, then the orphaned owners.
//
// Names and reasons come from sources and IdPs, which an attacker may
// control: text and markdown escape them (SafeText, SafeLines, escape.go)
// so that a forged name fakes no line, row, heading or "guard: ok". JSON
// keeps them exact. cmd/orgsync uses SafeText and SafeLines for its other
// tables and error lines.
package render
