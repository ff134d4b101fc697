#!/bin/sh
# Stand-in for the official postgres image's entrypoint, for the compose smoke
# test (Debian ships PostgreSQL 15; the official image cannot be pulled here).
# It honours what docker-compose.yml relies on: POSTGRES_USER, POSTGRES_DB and
# POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (a Docker secret), a first start
# that runs initdb with scram-sha-256 and creates the database, password
# authentication for every network client, and the server running as the
# postgres user, not root.
set -eu

PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

if [ "$(id -u)" = 0 ]; then
    # Like the official image: fix ownership as root, then run as postgres.
    mkdir -p "$PGDATA" /run/postgresql
    chown postgres:postgres "$PGDATA" /run/postgresql
    chmod 0700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        password=$(cat "$POSTGRES_PASSWORD_FILE")
    else
        password=${POSTGRES_PASSWORD:-}
    fi
    if [ -z "$password" ]; then
        echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$password" >"$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
    rm -f "$pwfile"
    printf "\nhost all all all scram-sha-256\n" >>"$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
        pg_ctl --silent --wait -o "-c listen_addresses=''" start
        createdb --username="$user" "$db"
        pg_ctl --silent --wait -m fast stop
    fi
    echo "postgres-entrypoint: initialised $PGDATA for $user/$db"
fi

exec "$@" -c listen_addresses='*'
