// Package hardening holds what the hardening tests share: a byte-exact
// dump of every table of a store (to prove that hostile traffic changed
// nothing) and a generator of malformed and adversarial SCIM requests.
//
// The generator is deterministic for a seed. Every request it makes is one
// the receiver must refuse or answer read-only: run against a live server,
// no request may be answered with a 5xx and the store's rows must be
// byte-identical afterwards. tools/scimhostile drives it against any URL;
// the tests in cmd/orgsync drive it against `orgsync serve`.
package hardening
