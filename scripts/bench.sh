#!/usr/bin/env bash
# Runs the SSB-flat benchmark (bench/cmd/ssbflat) against a fresh Strata
# server: builds strata, starts it on free local ports with a temporary data
# directory, generates and loads SF ${SF:-1}, runs the 13 queries, prints the
# Markdown table and stops the server.
#
#   scripts/bench.sh                       # SF 1
#   SF=10 scripts/bench.sh -runs 5         # extra flags go to ssbflat
#   KEEP=1 scripts/bench.sh                # keep the data directory and log
#   STRATA_BIN=/path/strata scripts/bench.sh  # use a prebuilt binary
#
# MV=1 adds -mv: after the load, ssbflat builds materialized views that
# answer SSB-flat queries and times each query they answer with and without
# them, side by side (aggregating views, then row-keeping sorted ones).
#
#   MV=1 scripts/bench.sh -settle 10m -runs 5
#   MV=1 SF=10 scripts/bench.sh -settle 10m -mv-kinds dup
#
# ALTERLAT=1 runs the light schema change latency runner (bench/cmd/alterlat)
# against the same kind of server instead: ADD/DROP COLUMN round trips on
# tables of 100 K and 10 M rows; extra flags go to alterlat.
#
#   ALTERLAT=1 scripts/bench.sh                   # 100 rounds per size
#   ALTERLAT=1 scripts/bench.sh -sizes 100000,1000000 -rounds 20
#
# PEERS=1 runs the side-by-side runner instead (bench/peers, its own Go
# module): Strata, DuckDB and ClickHouse 18.16 on the same data, flat and
# star schema; it starts and stops every server itself. Extra flags go to
# bench/peers/cmd/ssb; results.md and the SVG charts go to $OUT.
#
#   PEERS=1 scripts/bench.sh                          # SF 1, all three systems
#   PEERS=1 SF=10 scripts/bench.sh -cold              # cold runs too (root)
#   PEERS=1 scripts/bench.sh -systems strata,duckdb -schema flat
set -euo pipefail
cd "$(dirname "$0")/.."

SF=${SF:-1}
if [ -n "${PEERS:-}" ]; then
	out=${OUT:-${TMPDIR:-/tmp}/strata-ssb-peers}
	args=(-sf "$SF" -repo "$PWD" -out "$out")
	if [ -n "${STRATA_BIN:-}" ]; then args+=(-strata-bin "$STRATA_BIN"); fi
	if [ -n "${KEEP:-}" ]; then args+=(-keep); fi
	cd bench/peers
	exec go run ./cmd/ssb "${args[@]}" "$@"
fi
if [ -n "${STRATA_BIN:-}" ]; then
	bin=$STRATA_BIN
else
	bin=/tmp/strata
	go build -o "$bin" ./cmd/strata
fi

data=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
log="$data/server.log"

# port_busy P succeeds when something listens on 127.0.0.1:P.
port_busy() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ports=()
p=$((20000 + RANDOM % 30000))
while [ ${#ports[@]} -lt 6 ]; do
	p=$((p + 1))
	if ! port_busy "$p"; then ports+=("$p"); fi
done
query_port=${ports[0]} http_port=${ports[1]} be_http_port=${ports[2]}
be_rpc_port=${ports[3]} etcd_client_port=${ports[4]} etcd_peer_port=${ports[5]}

"$bin" server --data-dir "$data" \
	--query-port "$query_port" --http-port "$http_port" \
	--be-http-port "$be_http_port" --be-rpc-port "$be_rpc_port" \
	--etcd-client-port "$etcd_client_port" --etcd-peer-port "$etcd_peer_port" \
	--arrow-flight-sql-port 0 \
	>"$log" 2>&1 &
pid=$!

cleanup() {
	status=$?
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	if [ "$status" != 0 ]; then
		echo "bench.sh: failed; last lines of the server log ($log):" >&2
		tail -n 40 "$log" >&2 || true
	fi
	if [ -z "${KEEP:-}" ] && [ "$status" = 0 ]; then
		rm -rf "$data"
	else
		echo "bench.sh: data directory kept: $data" >&2
	fi
	exit "$status"
}
trap cleanup EXIT INT TERM

echo "bench.sh: strata pid $pid, mysql 127.0.0.1:$query_port, http 127.0.0.1:$http_port, data $data"
for _ in $(seq 1 600); do
	if port_busy "$query_port"; then break; fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "bench.sh: strata exited during start-up" >&2
		exit 1
	fi
	sleep 0.1
done
if ! port_busy "$query_port"; then
	echo "bench.sh: strata did not open port $query_port within 60 s" >&2
	exit 1
fi

if [ -n "${ALTERLAT:-}" ]; then
	go run ./bench/cmd/alterlat -addr "127.0.0.1:$query_port" -http "127.0.0.1:$http_port" -user root "$@"
	exit
fi
mv=()
if [ -n "${MV:-}" ]; then mv=(-mv); fi
go run ./bench/cmd/ssbflat -addr "127.0.0.1:$query_port" -http "127.0.0.1:$http_port" \
	-sf "$SF" -user root "${mv[@]}" "$@"
