#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that `make test` uses are up: start them if they are
# installed but stopped, and fail with a clear message if they are missing.
set -uo pipefail

db_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/coursebench}
broker_url=${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}

host_port() { # URL -> "host port" (default port $2)
  local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}
  local host=${rest%%:*} port=${rest##*:}
  [[ $rest == *:* ]] || port=$2
  echo "${host:-127.0.0.1} $port"
}
reachable() { timeout 2 bash -c "</dev/tcp/$1/$2" 2>/dev/null; }
wait_for() { # name host port
  for _ in $(seq 1 40); do reachable "$2" "$3" && return 0; sleep 0.5; done
  echo "error: $1 was started but does not answer on $2:$3 after 20s; see its log." >&2
  exit 1
}
is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

read -r pg_host pg_port <<<"$(host_port "$db_url" 5432)"
if reachable "$pg_host" "$pg_port"; then
  echo "PostgreSQL: up on $pg_host:$pg_port"
elif is_local "$pg_host" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "PostgreSQL: installed but stopped; starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || {
    echo "error: could not start PostgreSQL $version/main (see /var/log/postgresql/)." >&2; exit 1; }
  wait_for PostgreSQL "$pg_host" "$pg_port"
else
  cat >&2 <<MSG
error: PostgreSQL is not reachable on $pg_host:$pg_port and no local installation was found.
  Install it (Debian/Ubuntu: apt-get install postgresql) with trust auth for 127.0.0.1,
  or point TEST_DATABASE_URL at a server, e.g. TEST_DATABASE_URL=postgres://USER@HOST:5432/coursebench
MSG
  exit 1
fi

read -r redis_host redis_port <<<"$(host_port "$broker_url" 6379)"
if reachable "$redis_host" "$redis_port"; then
  echo "Redis: up on $redis_host:$redis_port"
elif is_local "$redis_host" && command -v redis-server >/dev/null; then
  echo "Redis: installed but stopped; starting redis-server"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || {
    echo "error: could not start redis-server (see /var/log/redis/ci.log)." >&2; exit 1; }
  wait_for Redis "$redis_host" "$redis_port"
else
  cat >&2 <<MSG
error: Redis is not reachable on $redis_host:$redis_port and redis-server is not installed.
  Install it (Debian/Ubuntu: apt-get install redis-server),
  or point TEST_BROKER_URL at a server, e.g. TEST_BROKER_URL=redis://HOST:6379/15
MSG
  exit 1
fi
