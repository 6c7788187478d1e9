#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite.
#   scripts/postgres.sh start DIR PORT   → prints the DSN on stdout
#   scripts/postgres.sh stop DIR
# The cluster lives in DIR, listens on 127.0.0.1:PORT only, trusts loopback
# connections, and runs as the unprivileged "postgres" user (initdb refuses
# root). It never touches a system cluster.
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?state directory}

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local b
  b=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1)
  [ -n "$b" ] && { echo "$b"; return; }
  return 1
}

ensure_installed() {
  if find_bin initdb >/dev/null && find_bin pg_ctl >/dev/null; then return; fi
  echo "postgres.sh: installing PostgreSQL server binaries" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
}

run_as() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown -R postgres "$dir"
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su -s /bin/sh postgres -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

case "$cmd" in
start)
  port=${3:?port}
  ensure_installed
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  mkdir -p "$dir"
  chmod 755 "$dir"
  run_as "$initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
CONF
  run_as "$pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || { cat "$dir/postgres.log" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  pg_ctl=$(find_bin pg_ctl)
  [ -d "$dir/data" ] || exit 0
  run_as "$pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
