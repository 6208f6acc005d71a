#!/usr/bin/env bash
# Starts the local stack: a registry on 127.0.0.1:5000 and buildkitd on a
# unix socket, plus a buildx builder "kiln" that points at it. Reuses
# daemons that are already running from an earlier up.sh. Writes
# $KILN_STACK_DIR/env for tests and developers to source.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REGISTRY_PID=$STACK_RUN/registry.pid
BUILDKITD_PID=$STACK_RUN/buildkitd.pid
REGISTRY_LOG=$STACK_LOG/registry.log
BUILDKITD_LOG=$STACK_LOG/buildkitd.log
WAIT_SECONDS=${KILN_STACK_WAIT:-90}

[ "$(id -u)" -eq 0 ] || die "up.sh must run as root (buildkitd with runc, binfmt_misc)"
for b in buildkitd buildctl docker-buildx; do
	[ -x "$STACK_BIN/$b" ] || die "$STACK_BIN/$b missing: run integration/stack/install.sh first"
done
for b in docker-registry runc curl jq update-binfmts; do
	command -v "$b" >/dev/null || die "$b not on PATH: run integration/stack/install.sh first"
done
command -v docker >/dev/null || die "no docker CLI on PATH: run integration/stack/install.sh first"
mkdir -p "$STACK_RUN" "$STACK_LOG" "$STACK/registry" "$STACK/buildkit" "$STACK/config"

registry_answers() { curl -fs -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/"; }
buildkitd_answers() { buildctl --addr "$BUILDKIT_ADDR" debug workers >/dev/null 2>&1; }

# wait_for NAME PIDFILE LOG CHECK: polls CHECK until it passes, failing
# early with the log tail if the daemon dies.
wait_for() {
	local name=$1 pidfile=$2 logf=$3 check=$4 i
	for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
		if "$check"; then return 0; fi
		if ! pid_alive "$pidfile" "$name"; then
			tail_log "$logf"
			die "$name exited while starting (log: $logf)"
		fi
		sleep 0.25
	done
	tail_log "$logf"
	die "$name did not answer within ${WAIT_SECONDS}s (log: $logf)"
}

# start_daemon NAME PIDFILE LOG CMD...: setsid puts the daemon in its own
# session so it outlives this script and CI's shell; it execs, so $! is the
# daemon's own pid.
start_daemon() {
	local name=$1 pidfile=$2 logf=$3
	shift 3
	printf '\n==== %s starting %s ====\n' "$(date -Is)" "$name" >>"$logf"
	setsid "$@" </dev/null >>"$logf" 2>&1 &
	echo $! >"$pidfile"
	log "$name: started pid $(cat "$pidfile"), log $logf"
}

registry_step() {
	if pid_alive "$REGISTRY_PID" docker-registry; then
		log "registry: reusing pid $(cat "$REGISTRY_PID")"
	elif registry_answers; then
		# Something not started by us already serves the port; use it but
		# never stop it.
		log "registry: WARNING $REGISTRY_ADDR answers but was not started by this stack; reusing it"
		rm -f "$REGISTRY_PID"
		return 0
	else
		cat >"$STACK/config/registry.yml" <<-YML
			version: 0.1
			log:
			  level: info
			storage:
			  filesystem:
			    rootdirectory: $STACK/registry
			  delete:
			    enabled: true
			http:
			  addr: $REGISTRY_ADDR
		YML
		start_daemon docker-registry "$REGISTRY_PID" "$REGISTRY_LOG" \
			docker-registry serve "$STACK/config/registry.yml"
	fi
	wait_for docker-registry "$REGISTRY_PID" "$REGISTRY_LOG" registry_answers
	log "registry: http://$REGISTRY_ADDR/v2/ answers"
}

binfmt_step() {
	local mnt=/proc/sys/fs/binfmt_misc
	if ! mountpoint -q "$mnt"; then
		log "binfmt: mounting binfmt_misc on $mnt"
		mount -t binfmt_misc binfmt_misc "$mnt"
	fi
	if ! grep -qx enabled "$mnt/qemu-aarch64" 2>/dev/null; then
		update-binfmts --enable qemu-aarch64
	fi
	grep -qx enabled "$mnt/qemu-aarch64" || die "binfmt handler qemu-aarch64 is not enabled"
	log "binfmt: qemu-aarch64 enabled"
}

buildkitd_step() {
	if pid_alive "$BUILDKITD_PID" buildkitd; then
		log "buildkitd: reusing pid $(cat "$BUILDKITD_PID")"
	else
		if [ -S "$BUILDKIT_SOCK" ] && buildkitd_answers; then
			die "$BUILDKIT_SOCK answers but its buildkitd has no live pid file; stop it or use another KILN_STACK_DIR"
		fi
		rm -f "$BUILDKIT_SOCK"
		cat >"$STACK/config/buildkitd.toml" <<-TOML
			root = "$STACK/buildkit"

			[grpc]
			  address = ["$BUILDKIT_ADDR"]

			[worker.oci]
			  enabled = true
			  binary = "runc"
			  snapshotter = "overlayfs"

			[worker.containerd]
			  enabled = false

			[registry."$REGISTRY_ADDR"]
			  http = true
			  insecure = true
		TOML
		start_daemon buildkitd "$BUILDKITD_PID" "$BUILDKITD_LOG" \
			"$STACK_BIN/buildkitd" --config "$STACK/config/buildkitd.toml" --debugaddr "$BUILDKITD_DEBUG_ADDR"
	fi
	wait_for buildkitd "$BUILDKITD_PID" "$BUILDKITD_LOG" buildkitd_answers
	log "buildkitd: $BUILDKIT_ADDR answers ($(buildctl --addr "$BUILDKIT_ADDR" debug workers | tail -n +2 | awk '{print $2}' | paste -sd' '))"
}

# node_step PLATFORM: a buildkitd that offers only linux/PLATFORM, with
# debug logs (each exec's arguments) so tests can see which node ran what.
node_step() {
	local plat=$1 name=node-$1
	local pidfile=$STACK_RUN/$name.pid logf=$STACK_LOG/$name.log sock=$STACK_RUN/$name.sock
	local addr=unix://$sock
	node_answers() { buildctl --addr "$addr" debug workers >/dev/null 2>&1; }
	if pid_alive "$pidfile" buildkitd; then
		log "$name: reusing pid $(cat "$pidfile")"
	else
		rm -f "$sock"
		mkdir -p "$STACK/$name"
		cat >"$STACK/config/$name.toml" <<-TOML
			root = "$STACK/$name"
			debug = true

			[grpc]
			  address = ["$addr"]

			[worker.oci]
			  enabled = true
			  binary = "runc"
			  snapshotter = "overlayfs"
			  platforms = ["linux/$plat"]

			[worker.containerd]
			  enabled = false

			[registry."$REGISTRY_ADDR"]
			  http = true
			  insecure = true
		TOML
		start_daemon buildkitd "$pidfile" "$logf" "$STACK_BIN/buildkitd" --config "$STACK/config/$name.toml"
	fi
	wait_for buildkitd "$pidfile" "$logf" node_answers
	log "$name: $addr answers"
}

nodes_builder_step() {
	local plat first=1
	if docker buildx inspect "$NODES_BUILDER_NAME" >/dev/null 2>&1; then
		docker buildx rm "$NODES_BUILDER_NAME" >/dev/null
	fi
	for plat in "${NODE_PLATFORMS[@]}"; do
		if [ "$first" = 1 ]; then
			docker buildx create --name "$NODES_BUILDER_NAME" --node "node-$plat" --driver remote \
				--platform "linux/$plat" "unix://$STACK_RUN/node-$plat.sock" >/dev/null
			first=0
		else
			docker buildx create --append --name "$NODES_BUILDER_NAME" --node "node-$plat" \
				--platform "linux/$plat" "unix://$STACK_RUN/node-$plat.sock" >/dev/null
		fi
	done
	docker buildx inspect "$NODES_BUILDER_NAME" --bootstrap >/dev/null 2>&1 || die "docker buildx inspect $NODES_BUILDER_NAME failed"
	log "buildx: builder $NODES_BUILDER_NAME: nodes ${NODE_PLATFORMS[*]}"
}

buildx_step() {
	local endpoint out
	endpoint=$(docker buildx inspect "$BUILDER_NAME" 2>/dev/null | awk '/^Endpoint:/ {print $2; exit}' || true)
	if [ "$endpoint" = "$BUILDKIT_ADDR" ]; then
		log "buildx: reusing builder $BUILDER_NAME"
	else
		if [ -n "$endpoint" ]; then
			log "buildx: builder $BUILDER_NAME points at $endpoint; recreating"
			docker buildx rm "$BUILDER_NAME" >/dev/null
		fi
		docker buildx create --name "$BUILDER_NAME" --driver remote "$BUILDKIT_ADDR" >/dev/null
		log "buildx: created builder $BUILDER_NAME -> $BUILDKIT_ADDR"
	fi
	docker buildx use "$BUILDER_NAME"
	out=$(docker buildx inspect "$BUILDER_NAME" --bootstrap 2>&1) || {
		echo "$out" >&2
		tail_log "$BUILDKITD_LOG"
		die "docker buildx inspect $BUILDER_NAME --bootstrap failed"
	}
	if ! grep -q 'linux/arm64' <<<"$out"; then
		echo "$out" >&2
		die "builder $BUILDER_NAME does not list linux/arm64 (binfmt qemu-aarch64?)"
	fi
	log "buildx: builder $BUILDER_NAME ready: $(awk -F': *' '/^Platforms:/ {print $2; exit}' <<<"$out")"
}

env_step() {
	# Written atomically so a test sourcing it never sees half a file.
	cat >"$STACK/env.new" <<-ENV
		# Source this file to use the kiln stack (written by integration/stack/up.sh).
		export KILN_STACK_DIR=$STACK
		export BUILDKIT_HOST=$BUILDKIT_ADDR
		export BUILDX_BUILDER=$BUILDER_NAME
		export KILN_REGISTRY=$REGISTRY_ADDR
		export KILN_BUILDKITD_DEBUGADDR=$BUILDKITD_DEBUG_ADDR
		export KILN_FRONTEND_IMAGE=\${KILN_FRONTEND_IMAGE:-$REGISTRY_ADDR/kiln:dev}
		export KILN_ARM64_BUSYBOX=$STACK/arm64/busybox
		export KILN_NODES_BUILDER=$NODES_BUILDER_NAME
		export SYFT_CHECK_FOR_APP_UPDATE=false
		case ":\$PATH:" in *":$STACK_BIN:"*) ;; *) export PATH="$STACK_BIN:\$PATH" ;; esac
	ENV
	mv -f "$STACK/env.new" "$STACK/env"
	log "env: wrote $STACK/env"
}

t_all=$(date +%s)
step registry registry_step
step binfmt binfmt_step
step buildkitd buildkitd_step
step buildx buildx_step
for p in "${NODE_PLATFORMS[@]}"; do
	step "node-$p" node_step "$p"
done
step nodes-builder nodes_builder_step
step env env_step
log "up: stack ready in $(($(date +%s) - t_all))s: BUILDKIT_HOST=$BUILDKIT_ADDR, registry $REGISTRY_ADDR; source $STACK/env"
