// Command orgsync keeps the membership of a self-hosted, end-to-end
// encrypted KMS in line with the company directory: a SCIM 2.0 receiver
// that IdPs push to, and a scheduled reconciler that pulls from LDAP,
// Active Directory and SCIM sources.
//
// This package is the only one that knows every concrete type: it loads
// the config, opens the store, builds the sources, and wires the receiver,
// the reconciler and the admin API into the CLI and the daemon. The daemon
// serves the configured orgs only (orgscope.go): a token or admin request
// for an org taken out of the config fails as for one that never existed.
//
// The config (config.go) is assembled from the components' own blocks:
// internal/yamlconf decodes it strictly, every source type is registered
// once in sourceTypes (sourcetypes.go; see internal/registry), and each
// secret is read by the commands that use it (secrets.go): serve and
// `config validate` check them all at load, listing every one missing.
package main
