#!/usr/bin/env bash
# Runs every fuzz target of the repository for SECONDS each (one target per
# `go test -fuzz` run, so they are listed here explicitly).
#   scripts/fuzz.sh            10 s each under CI=true, 60 s each by hand
#   scripts/fuzz.sh 600        10 minutes each
#   ORGSYNC_FUZZ_SECONDS=5 scripts/fuzz.sh   (what scripts/test.sh runs)
# Seed corpora live in each package's testdata/fuzz/<Target>/; a failing
# input is written there by go test: commit it with the fix.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

default=60
[ "${CI:-}" = "true" ] && default=10
secs=${1:-${ORGSYNC_FUZZ_SECONDS:-$default}}

targets=(
	"./receiver FuzzParseFilter"        # SCIM filter → orgsync.Filter: a 4xx or a filter, never a panic
	"./receiver FuzzSimpleFilter"       # the filter fast path agrees with the parser
	"./receiver FuzzPatch"              # PATCH paths and values
	"./receiver FuzzUserBody"           # JSON decoding of Users and Groups
	"./store FuzzSCIMFilterReference"   # filter → SQL selects exactly what the Go reference selects, org-scoped
	"./internal/hardening FuzzSCIMFilterOverHTTP" # filters over HTTP: 200 own org only, or 400 invalidFilter
	"./cmd/orgsync FuzzDecodeConfig"    # config decoding: no panic, no secret in errors
	"./internal/yamlconf FuzzDecode"    # strict YAML decoding with ${VAR}: errors, never a panic or an expanded secret
	"./sources/ldap FuzzEntryMapping"   # LDAP messages → entries → Snapshot
	"./sources/ldap/internal/wire FuzzDecode" # LDAP responses decoded in place, views into the buffer
	"./sources/scim FuzzPage"           # SCIM ListResponse pages → Snapshot
	"./internal/statepatch FuzzApply"  # a stored state patch: an error or the result it names, never a panic or a huge allocation
)

failed=()
for t in "${targets[@]}"; do
	set -- $t
	pkg=$1 name=$2
	printf '\n--> %s %s (%ss)\n' "$pkg" "$name" "$secs"
	log=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$pkg" 2>&1)
	rc=$?
	if [ $rc != 0 ] && ! grep -q 'Failing input written' <<<"$log" && grep -q 'context deadline exceeded' <<<"$log"; then
		# go test -fuzz sometimes reports its own -fuzztime deadline, caught
		# while a worker runs an input, as a failure; a real finding always
		# writes its failing input. Not a finding: note it and go on.
		echo "$log" | grep -E 'execs:' | tail -n 1
		echo "note: the fuzzing engine hit its own deadline mid-input (no failing input): not a finding"
		rc=0
	elif [ $rc = 0 ]; then echo "$log" | grep -E 'execs:' | tail -n 1; echo "$log" | tail -n 1; else echo "$log" | tail -n 40; failed+=("$pkg $name"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
	printf '\nfuzz targets failed (inputs saved under testdata/fuzz):\n' >&2
	printf '  %s\n' "${failed[@]}" | sort -u >&2
	exit 1
fi
echo "all ${#targets[@]} fuzz targets passed (${secs}s each)"
