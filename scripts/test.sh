#!/usr/bin/env bash
# Runs Strata's whole test suite on a machine that has nothing but Go:
# installs the clients the end-to-end tests drive (the mysql command-line
# client, curl, and Java with MariaDB's JDBC driver) and the etcd server the
# cluster tests run, then runs the Go tests, with the race detector on the
# packages that are concurrent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v mysql >/dev/null 2>&1 || need_apt+=(mariadb-client)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
# The JDBC conformance test runs a Java source file (java File.java needs a
# JDK's compiler) against Debian's MariaDB Connector/J.
command -v javac >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
[ -f /usr/share/java/mariadb-java-client.jar ] || need_apt+=(libmariadb-java)
if [ ${#need_apt[@]} -gt 0 ]; then
	echo "test.sh: installing ${need_apt[*]}"
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
	# Debian starts the packaged etcd as a service on 2379, the embedded
	# server's port; the tests start their own on free ports.
	if [[ " ${need_apt[*]} " == *" etcd-server "* ]] && command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
	fi
fi

go version
go mod download

# Static checks first: they are cheap and their failures are the easiest to read.
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...

# Packages whose code runs concurrently get the race detector, and so does
# the end-to-end suite, which then builds and drives a race-enabled server.
# The rest run plain (the race detector slows the storage and execution
# kernels ~10x).
race_re='/(fe|be/tabletstore|be/sink|be/local|be/service|rpc|compaction|loader|mysqlproto|server|tests/e2e|tests/cluster)(/|$)'
race_pkgs=$(go list ./... | grep -E "$race_re")
plain_pkgs=$(go list ./... | grep -v -E "$race_re")

go test -count=1 -timeout 20m $plain_pkgs
go test -count=1 -race -timeout 30m $race_pkgs

# The differential tests compare query results with DuckDB's. They are a
# module of their own (tests/differential), so the main module never links
# DuckDB (cgo, a large static library that links slowly).
(cd tests/differential && go mod download && go vet ./... && go test -count=1 -timeout 15m ./...)
