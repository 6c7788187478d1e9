#!/usr/bin/env bash
# Renders the Helm chart (deploy/helm/orgsync) and checks it with tools:
#   - helm lint --strict, and values.schema.json through helm itself;
#   - every rendered manifest decoded strictly into its Kubernetes API type
#     (deploy/helm/check), so an unknown or misplaced field fails;
#   - the orgsync.yaml the chart renders passes `orgsync config validate`;
#   - what the chart must refuse, it refuses: several replicas on SQLite,
#     PostgreSQL without its Secret, a value the schema does not allow.
# helm is built from the Go module proxy when it is not on the PATH.
# Usage: scripts/helm-check.sh      (scripts/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"
chart=deploy/helm/orgsync
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "helm-check: $*" >&2; exit 1; }

if ! command -v helm >/dev/null 2>&1; then
	echo "building helm from the Go module proxy (a few minutes, once per machine)"
	go install helm.sh/helm/v4/cmd/helm@v4.3.2
fi
helm version --short

(cd deploy/helm/check && go build -o "$tmp/check" .)
go build -o "$tmp/orgsync" ./cmd/orgsync

helm lint --strict "$chart" >/dev/null || helm lint --strict "$chart"
for f in "" $chart/ci/*.yaml; do
	name=${f:+$(basename "$f" .yaml)}
	name=${name:-defaults}
	mkdir -p "$tmp/$name"
	helm template orgsync "$chart" ${f:+-f "$f"} >"$tmp/$name/all.yaml" ||
		fail "$name: helm template failed"
	kinds=$("$tmp/check" -config "$tmp/$name" <"$tmp/$name/all.yaml") ||
		fail "$name: rendered manifests do not fit their API types"
	for cfg in "$tmp/$name"/*.yaml; do
		[ "$cfg" = "$tmp/$name/all.yaml" ] && continue
		# the files the chart mounts from Secrets, stand-ins here
		sed -e "s#/etc/orgsync/secrets/#$tmp/$name/secret-#g" "$cfg" >"$cfg.local"
		printf 'admin-token-for-chart-check-0123' >"$tmp/$name/secret-admin-token"
		printf 'postgres://orgsync@127.0.0.1:5432/orgsync?sslmode=disable' >"$tmp/$name/secret-database-dsn"
		LDAP_BIND_PASSWORD=x "$tmp/orgsync" --config "$cfg.local" config validate >/dev/null ||
			fail "$name: the rendered orgsync.yaml is not a valid config"
	done
	echo "$name: ok ($kinds)"
done

refuse() { # refuse WHY ARGS...: helm template must fail
	local why=$1
	shift
	if helm template orgsync "$chart" "$@" >/dev/null 2>"$tmp/err"; then
		fail "rendered although $why"
	fi
	echo "refused: $why ($(tr '\n' ' ' <"$tmp/err" | cut -c1-120))"
}
refuse "3 replicas on SQLite" --set replicaCount=3
refuse "postgres without a Secret" --set database.driver=postgres
refuse "an unknown database driver" --set database.driver=mysql
refuse "an unknown top-level value" --set colour=blue
refuse "the database set inside config" --set config.database.driver=sqlite
