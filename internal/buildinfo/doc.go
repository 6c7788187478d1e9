// Package buildinfo says which build of orgsync is running: its version,
// the commit it was built from and when.
//
// The release build stamps all three at link time:
//
//	go build -ldflags "-X github.com/orgsync/orgsync/internal/buildinfo.version=v1.2.3 \
//	  -X github.com/orgsync/orgsync/internal/buildinfo.commit=$(git rev-parse HEAD) \
//	  -X github.com/orgsync/orgsync/internal/buildinfo.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/orgsync
//
// A build that was not stamped (go build, go install) falls back to what the
// Go toolchain recorded in the binary: the module version and the VCS
// revision and time, when it had them. Nothing here changes at run time.
package buildinfo
