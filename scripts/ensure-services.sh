#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on this machine, installing and starting them when
# they are missing or stopped (a fresh Debian machine has PostgreSQL 15 stopped and no Redis).
# Also creates the `trendgate` role that the default DATABASE_URL names. Idempotent.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- Redis -------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting redis-server on 127.0.0.1:6379 (AOF on)"
  mkdir -p /tmp/trendgate-redis
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --dir /tmp/trendgate-redis \
    --appendonly yes --save "" --logfile /tmp/trendgate-redis/redis.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { log "redis did not start"; exit 1; }
log "redis is up"

# --- PostgreSQL --------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt_install postgresql
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
  if [ -z "$cluster" ]; then
    log "creating a PostgreSQL cluster"
    $SUDO pg_createcluster 15 main >/dev/null
    cluster="15 main"
  fi
  log "starting PostgreSQL cluster $cluster"
  # shellcheck disable=SC2086
  $SUDO pg_ctlcluster $cluster start
  for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { log "postgres did not start"; exit 1; }

# The role the default DATABASE_URL names; CREATEDB so `trendgate migrate` and the tests can
# create their databases.
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
as_postgres "psql -qtAc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trendgate') THEN CREATE ROLE trendgate LOGIN PASSWORD 'trendgate' CREATEDB; END IF; END \\\$\\\$;\"" >/dev/null
# Test files drop their databases WITH (FORCE); terminating an autovacuum worker busy in one
# needs pg_signal_backend.
as_postgres "psql -qtAc 'GRANT pg_signal_backend TO trendgate'" >/dev/null
log "postgres is up (role trendgate ready)"
