#!/usr/bin/env bash
# Stops the daemons up.sh started, by the pids it recorded, and nothing
# else. The buildx builder entry, binfmt handlers and stored data stay, so
# the next up.sh starts fast.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# stop NAME PIDFILE: SIGTERM, then SIGKILL if it has not gone after 30s.
stop() {
	local name=$1 pidfile=$2 pid i
	if ! pid_alive "$pidfile" "$name"; then
		[ -f "$pidfile" ] && log "$name: pid file $pidfile names no live $name; removing it"
		rm -f "$pidfile"
		log "$name: not running"
		return 0
	fi
	pid=$(cat "$pidfile")
	log "$name: stopping pid $pid"
	kill -TERM "$pid"
	for ((i = 0; i < 120; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name: still running after 30s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$pidfile"
	log "$name: stopped"
}

# buildkitd first: it may be pushing to the registry.
stop buildkitd "$STACK_RUN/buildkitd.pid"
for p in "${NODE_PLATFORMS[@]}"; do
	stop buildkitd "$STACK_RUN/node-$p.pid"
done
stop docker-registry "$STACK_RUN/registry.pid"
