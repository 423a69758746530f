#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster for the storage tests and makes the test role and database.
# Tests read KUBELITE_TEST_PG (default below).
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q online; then
  pg_lsclusters -h | grep -q "^$ver main" || pg_createcluster "$ver" main
  pg_ctlcluster "$ver" main start
fi
for _ in $(seq 50); do su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break; sleep 0.1; done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='kubelite'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role kubelite login superuser password 'kubelite'\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='kubelite_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O kubelite kubelite_test"
