# shellcheck shell=bash disable=SC2034 # variables are used by the sourcing scripts
# Shared settings and helpers for the kiln BuildKit stack scripts.
# Sourced, not run. Every path derives from KILN_STACK_DIR so a developer
# can keep a private stack next to CI's.

KILN_STACK_DIR=${KILN_STACK_DIR:-/var/lib/kiln-stack}
STACK=$KILN_STACK_DIR
STACK_BIN=$STACK/bin
STACK_RUN=$STACK/run
STACK_LOG=$STACK/log
STACK_CACHE=$STACK/cache
BUILDKIT_SOCK=$STACK_RUN/buildkitd.sock
BUILDKIT_ADDR=unix://$BUILDKIT_SOCK
REGISTRY_ADDR=127.0.0.1:5000
# buildkitd's debug server (pprof), loopback only: the benchmarks read a
# CPU profile of a cold build from it.
BUILDKITD_DEBUG_ADDR=127.0.0.1:6061
BUILDER_NAME=kiln
# A second builder of two nodes, one per platform (each buildkitd declares
# only its own), for the native-worker tests: buildx sends each platform's
# part of a build to the node that has it.
NODES_BUILDER_NAME=kiln-nodes
NODE_PLATFORMS=(amd64 arm64)
KILN_FRONTEND_IMAGE=${KILN_FRONTEND_IMAGE:-$REGISTRY_ADDR/kiln:dev}

# Pinned versions: see shared/BUILDKIT-RECIPE.md for why these.
BUILDKIT_VERSION=v0.33.1
BUILDX_VERSION=v0.37.2
SYFT_VERSION=v1.54.1

STACK_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_SRC_DIR/../.." && pwd)

export PATH="$STACK_BIN:$PATH"

log() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

die() {
	printf '[stack] ERROR: %s\n' "$*" >&2
	exit 1
}

# tail_log prints the end of a daemon log so a failure shows its cause.
tail_log() {
	local f=$1
	if [ -f "$f" ]; then
		printf '[stack] ---- last lines of %s ----\n' "$f" >&2
		tail -n "${2:-40}" "$f" >&2
		printf '[stack] ---- end of %s ----\n' "$f" >&2
	fi
}

# step NAME CMD... runs one step and prints how long it took.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "step $name: start"
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		log "step $name: FAILED (exit $rc) after $(($(date +%s) - t0))s"
		exit "$rc"
	fi
	log "step $name: done in $(($(date +%s) - t0))s"
}

# pid_alive PIDFILE NAME: true when the pid file names a live process whose
# command is NAME, so a recycled pid is never taken for our daemon. A killed
# daemon stays a zombie until init reaps it: that counts as dead.
pid_alive() {
	local pidfile=$1 name=$2 pid comm state
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	[ "$comm" = "${name:0:15}" ] || return 1
	state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
