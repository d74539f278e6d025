#!/usr/bin/env bash
# Runs a local Strata cluster on loopback: one etcd member (Debian's
# etcd-server), 3 frontends and 3 backends, each with its own data
# directory under $STRATA_CLUSTER_DIR (default ./strata-cluster).
#
#   scripts/cluster.sh up       build strata, start everything, add the backends
#   scripts/cluster.sh down     stop everything (SIGTERM, then SIGKILL after 20 s)
#   scripts/cluster.sh status   which processes run, SHOW FRONTENDS and SHOW BACKENDS
#   scripts/cluster.sh add-be   add one more backend (ALTER SYSTEM ADD BACKEND, then start it)
#
# Ports (override with the variables):
#   etcd            ETCD_PORT=12379 (peer 12380)
#   frontend i=0..  MySQL 9030+i, HTTP 8030+i, RPC 9020+i, Arrow Flight SQL 8070+i
#   backend  i=0..  HTTP 8040+i, RPC 8060+i
# FRONTENDS=3 and BACKENDS=3 set the sizes; STRATA_BIN uses a prebuilt binary;
# FE_FLAGS and BE_FLAGS add flags to every frontend and backend.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${STRATA_CLUSTER_DIR:-./strata-cluster}
ETCD_PORT=${ETCD_PORT:-12379}
FRONTENDS=${FRONTENDS:-3}
BACKENDS=${BACKENDS:-3}
FE_QUERY=${FE_QUERY:-9030}
FE_HTTP=${FE_HTTP:-8030}
FE_RPC=${FE_RPC:-9020}
FE_FLIGHT=${FE_FLIGHT:-8070}
BE_HTTP=${BE_HTTP:-8040}
BE_RPC=${BE_RPC:-8060}
HOST=127.0.0.1

die() { echo "cluster.sh: $*" >&2; exit 1; }

# sql runs one statement through frontend 0's HTTP SQL API.
sql() {
	curl -sS -u root: -H 'Content-Type: application/json' \
		-d "{\"stmt\": \"$1\"}" "http://$HOST:$FE_HTTP/api/query/default_cluster/information_schema"
}

# wait_port waits until a TCP port accepts connections.
wait_port() {
	local port=$1 what=$2
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	die "$what did not start listening on $port; see $DIR/logs"
}

start() { # name, command...
	local name=$1; shift
	mkdir -p "$DIR/logs" "$DIR/pids"
	nohup "$@" >"$DIR/logs/$name.log" 2>&1 &
	echo $! >"$DIR/pids/$name.pid"
}

running() { # name
	local f="$DIR/pids/$1.pid"
	[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# start_be adds backend i and starts it.
start_be() {
	local i=$1 bin
	bin=$(cat "$DIR/bin.path")
	out=$(sql "ALTER SYSTEM ADD BACKEND '$HOST:$((BE_RPC + i))'")
	case "$out" in
	*'"code":0'* | *'"code": 0'* | *"already exists"*) ;;
	*) die "adding backend $i: $out" ;;
	esac
	start "be$i" "$bin" be --fe "$HOST:$FE_HTTP" --data-dir "$DIR/be$i" \
		--http-port $((BE_HTTP + i)) --rpc-port $((BE_RPC + i)) ${BE_FLAGS:-}
}

add_be() {
	running fe0 || die "no cluster runs in $DIR"
	local i=0
	while [ -f "$DIR/pids/be$i.pid" ]; do i=$((i + 1)); done
	start_be "$i"
	wait_port $((BE_HTTP + i)) "be$i"
	echo "backend be$i added: HTTP $((BE_HTTP + i)), RPC $((BE_RPC + i))"
}

up() {
	command -v etcd >/dev/null || die "etcd is not installed (apt-get install etcd-server)"
	command -v curl >/dev/null || die "curl is not installed"
	if running etcd; then die "the cluster in $DIR is already up"; fi
	local bin=${STRATA_BIN:-}
	if [ -z "$bin" ]; then
		mkdir -p "$DIR/bin"
		go build -o "$DIR/bin/strata" ./cmd/strata
		bin="$DIR/bin/strata"
	fi
	local etcd_url="http://$HOST:$ETCD_PORT"
	start etcd etcd --name strata --data-dir "$DIR/etcd" \
		--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
		--listen-peer-urls "http://$HOST:$((ETCD_PORT + 1))" \
		--initial-advertise-peer-urls "http://$HOST:$((ETCD_PORT + 1))" \
		--initial-cluster "strata=http://$HOST:$((ETCD_PORT + 1))"
	wait_port "$ETCD_PORT" etcd
	for i in $(seq 0 $((FRONTENDS - 1))); do
		start "fe$i" "$bin" fe --etcd "$etcd_url" --name "fe$i" --data-dir "$DIR/fe$i" \
			--query-port $((FE_QUERY + i)) --http-port $((FE_HTTP + i)) --rpc-port $((FE_RPC + i)) \
			--arrow-flight-sql-port $((FE_FLIGHT + i)) ${FE_FLAGS:-}
	done
	for i in $(seq 0 $((FRONTENDS - 1))); do wait_port $((FE_HTTP + i)) "fe$i"; done
	sleep 0.5
	for i in $(seq 0 $((FRONTENDS - 1))); do running "fe$i" || die "fe$i exited; see $DIR/logs/fe$i.log"; done
	echo "$bin" >"$DIR/bin.path"
	for i in $(seq 0 $((BACKENDS - 1))); do start_be "$i"; done
	for i in $(seq 0 $((BACKENDS - 1))); do wait_port $((BE_HTTP + i)) "be$i"; done
	for i in $(seq 0 $((BACKENDS - 1))); do running "be$i" || die "be$i exited; see $DIR/logs/be$i.log"; done
	# The backends are up once each holds its liveness lease.
	for _ in $(seq 1 300); do
		alive=$(sql "SHOW BACKENDS" | grep -o '"true","false"' | wc -l || true)
		[ "$alive" -ge "$BACKENDS" ] && break
		sleep 0.1
	done
	echo "cluster up in $DIR: mysql -h$HOST -P$FE_QUERY -uroot (frontends on $FE_QUERY..$((FE_QUERY + FRONTENDS - 1)))"
}

down() {
	local pids=()
	for f in "$DIR"/pids/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
		rm -f "$f"
	done
	for _ in $(seq 1 200); do
		left=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
		[ $left = 0 ] && break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	echo "cluster down"
}

status() {
	for f in "$DIR"/pids/*.pid; do
		[ -f "$f" ] || { echo "no cluster in $DIR"; return 0; }
		name=$(basename "$f" .pid)
		if running "$name"; then echo "$name: running (pid $(cat "$f"))"; else echo "$name: stopped"; fi
	done
	if running fe0; then
		echo "SHOW FRONTENDS:"; sql "SHOW FRONTENDS"; echo
		echo "SHOW BACKENDS:"; sql "SHOW BACKENDS"; echo
	fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
add-be) add_be ;;
*) echo "usage: $0 up|down|status|add-be" >&2; exit 2 ;;
esac
