#!/bin/bash
# tests/sts/stsctl.sh - start and stop the STS test endpoint and the IMDS
# emulator for one test directory, the same way for every test, demo and
# benchmark.  Ports are chosen at run time (--port 0), so runs never collide.
#
#   stsctl.sh start DIR [options]   start both, wait (<= 30 s) until listening,
#                                   write DIR/env and print it (export lines)
#       --http                 STS over plain HTTP (default HTTPS)
#       --cert NAME            server cert pair from the CA dir: server (default),
#                              other-server, wrongname-server, expired-server
#       --ca-dir D             CA dir (default DIR/ca; made by mkca.sh)
#       --state FILE           use FILE as state (default DIR/state.json, created
#                              with random secrets when missing)
#       --bind ADDR            127.0.0.1 (default) or ::1
#       --no-imds              start only the STS endpoint
#       --store                also the DynamoDB store's servers: dynalite (from
#                              $IG_TEST_NODE_DIR, tests/deps.sh installs it), the
#                              DynamoDB proxy in front of it (ddb_proxy.py: HTTPS,
#                              SigV4, faults) and the KMS endpoint (kms_endpoint.py)
#       --sts-faults JSON      initial STS faults (same JSON as the control path)
#       --imds-faults JSON     initial IMDS faults
#       --lifetime S           servers exit by themselves after S seconds
#                              (default $STS_LIFETIME or 1800)
#   stsctl.sh stop DIR [sts|imds|store]   stop (SIGTERM, then SIGKILL after 5 s) by pid file
#
# The IMDS emulator is locked down like the real service on a bastion
# (packaging/nftables/iamgate-imds.nft): started by root, it gets an
# nftables table of its own (inet iamgate_test_imds_PORT, in the caller's
# network namespace) that lets only uid 0 connect to its port, since the
# gate issues nothing while a user can reach its IMDS endpoint.  stop
# removes the table.
#   stsctl.sh ctl DIR sts|imds|ddb|kms [JSON]   GET the control state, or POST faults
#   stsctl.sh env DIR                   print DIR/env
#   stsctl.sh table DIR NAME            (--store) create table NAME from the
#                                       example config/dynamodb/table.json with
#                                       the AWS CLI, signed as "bastion"
#
# Typical test:
#   eval "$(tests/sts/stsctl.sh start "$T")"    # STS_URL, STS_CA, IMDS_URL, ...
#   trap 'tests/sts/stsctl.sh stop "$T"' EXIT
#   AWS_CONFIG_FILE=$STS_AWS_CONFIG AWS_SHARED_CREDENTIALS_FILE=$STS_AWS_CREDENTIALS \
#     AWS_CA_BUNDLE=$STS_CA aws --profile bastion --endpoint-url "$STS_URL" sts get-caller-identity
#   tests/sts/stsctl.sh ctl "$T" sts '{"throttle":{"count":2}}'
#
# DIR/env exports: STS_DIR STS_PORT STS_URL STS_CA STS_STATE STS_LOG
# STS_AWS_CONFIG STS_AWS_CREDENTIALS (profiles named after the state's
# credentials: bastion, instance, outsider) and, with IMDS, IMDS_PORT IMDS_URL
# IMDS_LOG; with --store DDB_URL DDB_LOG KMS_URL KMS_LOG KMS_KEY_ARN (the one
# key's ARN; the key also answers to alias/iamgate-test) and AWS_TEST_REGION.
# Logs: DIR/sts.jsonl, DIR/imds.jsonl, DIR/ddb.jsonl, DIR/kms.jsonl; stderr:
# DIR/*.stderr.
set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
NODE_DIR=${IG_TEST_NODE_DIR:-/opt/iamgate-test/dynalite}

die() {
	echo "stsctl.sh: $*" >&2
	exit 1
}

# is_ours PIDFILE SCRIPT: the pid is alive and runs SCRIPT (not a recycled pid)
is_ours() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

stop_one() { # DIR NAME SCRIPT
	local pf=$1/$2.pid pid
	if is_ours "$pf" "$3"; then
		pid=$(cat "$pf")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	rm -f "$pf" "$1/$2.port"
}

wait_port() { # DIR NAME SCRIPT (bounded: 30 s, generous for a loaded machine)
	for _ in $(seq 300); do
		[ -s "$1/$2.port" ] && return 0
		is_ours "$1/$2.pid" "$3" || break
		sleep 0.1
	done
	cat "$1/$2.stderr" >&2 2>/dev/null || true
	stop_one "$1" "$2" "$3"
	die "$2 did not start (see $1/$2.stderr)"
}

q() { printf '%q' "$1"; }

# imds_lock DIR BIND PORT: only root may connect to BIND:PORT (see the top).
imds_lock() {
	local table=iamgate_test_imds_$3 fam=ip
	case $2 in *:*) fam=ip6 ;; esac
	if [ "$(id -u)" -ne 0 ]; then
		echo "stsctl.sh: not root: the IMDS emulator is not locked down (the gate will refuse to issue)" >&2
		return 0
	fi
	command -v nft >/dev/null || die "nft missing: apt-get install nftables (tests/deps.sh)"
	nft -f - <<NFT || die "cannot load the IMDS emulator's lockdown table $table"
table inet $table
delete table inet $table
table inet $table {
	chain output {
		type filter hook output priority filter; policy accept;
		$fam daddr $2 tcp dport $3 meta skuid != 0 reject with tcp reset
	}
}
NFT
	echo "$table" >"$1/imds.nft-table"
}

imds_unlock() {
	local table
	table=$(cat "$1/imds.nft-table" 2>/dev/null) || return 0
	case $table in iamgate_test_imds_[0-9]*) nft delete table inet "$table" 2>/dev/null || true ;; esac
	rm -f "$1/imds.nft-table"
}

cmd_start() {
	local dir=$1
	shift
	local http=0 cert=server cadir="" state="" bind=127.0.0.1 imds=1
	local sfaults="" ifaults="" lifetime=${STS_LIFETIME:-1800} store=0
	while [ $# -gt 0 ]; do
		case $1 in
		--http) http=1 ;;
		--cert) cert=$2; shift ;;
		--ca-dir) cadir=$2; shift ;;
		--state) state=$2; shift ;;
		--bind) bind=$2; shift ;;
		--no-imds) imds=0 ;;
		--store) store=1 ;;
		--sts-faults) sfaults=$2; shift ;;
		--imds-faults) ifaults=$2; shift ;;
		--lifetime) lifetime=$2; shift ;;
		*) die "start: unknown option $1" ;;
		esac
		shift
	done
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	cadir=${cadir:-$dir/ca}
	state=${state:-$dir/state.json}
	is_ours "$dir/sts.pid" sts_endpoint.py && die "already running in $dir (stsctl.sh stop first)"
	is_ours "$dir/imds.pid" imds.py && die "IMDS already running in $dir"
	rm -f "$dir/sts.port" "$dir/imds.port"
	"$HERE/mkca.sh" "$cadir"
	$PY "$HERE/stsutil.py" init-state "$state"
	$PY "$HERE/stsutil.py" aws-files "$state" "$dir/aws"

	local tls=(--cert "$cadir/$cert.pem" --key "$cadir/$cert.key") scheme=https
	[ $http = 1 ] && tls=(--http) && scheme=http
	local host=$bind
	case $bind in *:*) host="[$bind]" ;; esac
	local fa=()
	[ -n "$sfaults" ] && fa=(--faults "$sfaults")
	$PY "$HERE/sts_endpoint.py" --state "$state" "${tls[@]}" --bind "$bind" --port 0 \
		--port-file "$dir/sts.port" --log "$dir/sts.jsonl" --lifetime "$lifetime" "${fa[@]}" \
		</dev/null >>"$dir/sts.stderr" 2>&1 &
	echo $! >"$dir/sts.pid"
	if [ $imds = 1 ]; then
		fa=()
		[ -n "$ifaults" ] && fa=(--faults "$ifaults")
		$PY "$HERE/imds.py" --state "$state" --bind "$bind" --port 0 \
			--port-file "$dir/imds.port" --log "$dir/imds.jsonl" --lifetime "$lifetime" \
			"${fa[@]}" </dev/null >>"$dir/imds.stderr" 2>&1 &
		echo $! >"$dir/imds.pid"
	fi
	wait_port "$dir" sts sts_endpoint.py
	if [ $imds = 1 ]; then
		wait_port "$dir" imds imds.py
		imds_lock "$dir" "$bind" "$(cat "$dir/imds.port")"
	fi
	[ $store = 1 ] && start_store "$dir" "$cadir" "$state" "$bind" "$lifetime"

	local sp ip
	sp=$(cat "$dir/sts.port")
	{
		echo "export STS_DIR=$(q "$dir")"
		echo "export STS_PORT=$sp"
		echo "export STS_URL=$(q "$scheme://$host:$sp")"
		echo "export STS_CA=$(q "$cadir/ca.pem")"
		echo "export STS_STATE=$(q "$state")"
		echo "export STS_LOG=$(q "$dir/sts.jsonl")"
		echo "export STS_AWS_CONFIG=$(q "$dir/aws/config")"
		echo "export STS_AWS_CREDENTIALS=$(q "$dir/aws/credentials")"
		if [ $imds = 1 ]; then
			ip=$(cat "$dir/imds.port")
			echo "export IMDS_PORT=$ip"
			echo "export IMDS_URL=$(q "http://$host:$ip")"
			echo "export IMDS_LOG=$(q "$dir/imds.jsonl")"
		fi
		if [ $store = 1 ]; then
			echo "export DDB_URL=$(q "https://$host:$(cat "$dir/ddb.port")")"
			echo "export DDB_LOG=$(q "$dir/ddb.jsonl")"
			echo "export KMS_URL=$(q "https://$host:$(cat "$dir/kms.port")")"
			echo "export KMS_LOG=$(q "$dir/kms.jsonl")"
			echo "export KMS_KEY_ARN=$(q "$(cat "$dir/kms.arn")")"
			echo "export AWS_TEST_REGION=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("regions", ["us-east-1"])[0])' "$state")"
		fi
	} >"$dir/env"
	cat "$dir/env"
}

# dynalite on loopback, then the proxy in front of it and the KMS endpoint.
start_store() { # DIR CADIR STATE BIND LIFETIME
	local dir=$1 cadir=$2 state=$3 bind=$4 lifetime=$5
	[ -f "$NODE_DIR/node_modules/dynalite/index.js" ] ||
		die "dynalite is not installed in $NODE_DIR (run tests/deps.sh as root)"
	rm -f "$dir/dynalite.port" "$dir/ddb.port" "$dir/kms.port" "$dir/kms.arn"
	node "$HERE/dynalite/start.js" "$NODE_DIR/node_modules" "$bind" "$dir/dynalite.port" \
		"$lifetime" </dev/null >>"$dir/dynalite.stderr" 2>&1 &
	echo $! >"$dir/dynalite.pid"
	$PY "$HERE/kms_endpoint.py" --state "$state" --cert "$cadir/server.pem" \
		--key "$cadir/server.key" --bind "$bind" --port 0 --port-file "$dir/kms.port" \
		--key-arn-file "$dir/kms.arn" --log "$dir/kms.jsonl" --lifetime "$lifetime" \
		</dev/null >>"$dir/kms.stderr" 2>&1 &
	echo $! >"$dir/kms.pid"
	wait_port "$dir" dynalite start.js
	$PY "$HERE/ddb_proxy.py" --state "$state" --cert "$cadir/server.pem" \
		--key "$cadir/server.key" --upstream-port "$(cat "$dir/dynalite.port")" \
		--bind "$bind" --port 0 --port-file "$dir/ddb.port" --log "$dir/ddb.jsonl" \
		--lifetime "$lifetime" </dev/null >>"$dir/ddb.stderr" 2>&1 &
	echo $! >"$dir/ddb.pid"
	wait_port "$dir" kms kms_endpoint.py
	wait_port "$dir" ddb ddb_proxy.py
}

cmd_ctl() {
	local dir=$1 which=$2
	shift 2
	[ -s "$dir/env" ] || die "ctl: $dir/env missing (not started?)"
	(
		# shellcheck disable=SC1091
		. "$dir/env"
		case $which in
		sts) exec $PY "$HERE/stsutil.py" ctl "$STS_URL/_control" "$@" --ca "$STS_CA" ;;
		imds) exec $PY "$HERE/stsutil.py" ctl "$IMDS_URL/_control" "$@" ;;
		ddb) exec $PY "$HERE/stsutil.py" ctl "$DDB_URL/_control" "$@" --ca "$STS_CA" ;;
		kms) exec $PY "$HERE/stsutil.py" ctl "$KMS_URL/_control" "$@" --ca "$STS_CA" ;;
		*) die "ctl: sts, imds, ddb or kms, not $which" ;;
		esac
	)
}

# The example table definition, renamed, created through the proxy.
cmd_table() {
	local dir=$1 name=$2
	[ -s "$dir/env" ] || die "table: $dir/env missing (not started?)"
	(
		# shellcheck disable=SC1091
		. "$dir/env"
		[ -n "${DDB_URL:-}" ] || die "table: started without --store"
		jq --arg n "$name" '.TableName = $n' "$HERE/../../config/dynamodb/table.json" \
			>"$dir/table-$name.json"
		AWS_CONFIG_FILE=$STS_AWS_CONFIG AWS_SHARED_CREDENTIALS_FILE=$STS_AWS_CREDENTIALS \
			AWS_CA_BUNDLE=$STS_CA AWS_EC2_METADATA_DISABLED=true \
			aws --profile bastion --region "$AWS_TEST_REGION" --endpoint-url "$DDB_URL" \
			dynamodb create-table --cli-input-json "file://$dir/table-$name.json" \
			--output text --query TableDescription.TableName
	)
}

[ $# -ge 2 ] || die "usage: stsctl.sh start|stop|ctl|env|table DIR ... (see the top of $0)"
op=$1
dir=$2
shift 2
case $op in
start) cmd_start "$dir" "$@" ;;
stop)
	case ${1:-all} in
	sts | all) stop_one "$dir" sts sts_endpoint.py ;;&
	imds | all)
		stop_one "$dir" imds imds.py
		imds_unlock "$dir"
		;;&
	store | all)
		stop_one "$dir" ddb ddb_proxy.py
		stop_one "$dir" kms kms_endpoint.py
		stop_one "$dir" dynalite start.js
		;;
	sts | imds) ;;
	*) die "stop: sts, imds, store or nothing (all)" ;;
	esac
	;;
ctl)
	[ $# -ge 1 ] || die "usage: stsctl.sh ctl DIR sts|imds [JSON]"
	cmd_ctl "$dir" "$@"
	;;
env) cat "$dir/env" ;;
table)
	[ $# -eq 1 ] || die "usage: stsctl.sh table DIR NAME"
	cmd_table "$dir" "$1"
	;;
*) die "unknown command $op" ;;
esac
