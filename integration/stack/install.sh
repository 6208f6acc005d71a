#!/usr/bin/env bash
# Usage: integration/stack/install.sh   (root; KILN_STACK_DIR, default
# /var/lib/kiln-stack; KILN_STACK_SYFT=1 also builds syft, which only the
# SBOM tests use and which takes ~28 minutes on 2 cores: hack/test sets it
# unless KILN_STACK_NO_SYFT=1)
#
# Installs everything the local BuildKit stack needs on a fresh machine:
# Debian packages, an arm64 busybox for cross-arch tests, and buildkitd,
# buildctl, buildx and syft built from the Go module proxy (no prebuilt
# downloads are reachable here). Every step is skipped when its result is
# already in place with the pinned version, so re-running costs seconds.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian's runc is 1.1.5, where BuildKit v0.33.1's own image ships 1.4.3.
# For the bench's figures that makes no difference: runc 1.4.3 built from
# the module proxy and swapped in between builds on one builder took the
# same time per build (small image cold 2.93 s against 2.75, bumps 1.27 s
# against 1.32; large image cold 6.17 s against 5.97, bumps 1.96 s against
# 1.92; medians of 3-4 cold builds and 6-8 bumps, interleaved).
APT_PACKAGES=(runc docker-registry busybox-static skopeo umoci qemu-user-static binfmt-support jq curl)
ARM64_BUSYBOX=$STACK/arm64/busybox
# The docker CLI looks for plugins under $DOCKER_CONFIG (default ~/.docker).
BUILDX_PLUGIN=${DOCKER_CONFIG:-${HOME:-/root}/.docker}/cli-plugins/docker-buildx

# Builds must not hog the machine (2 cores, shared).
GO_BUILD_FLAGS=(-p 2 -trimpath)
export GOFLAGS=-buildvcs=false

[ "$(id -u)" -eq 0 ] || die "install.sh must run as root (apt-get, binfmt_misc)"
command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$STACK_BIN" "$STACK_CACHE" "$STACK/arm64"

missing_apt() {
	local p st
	for p in "${APT_PACKAGES[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || echo "$p"
	done
}

arm64_busybox_ok() {
	# e_machine (offset 18, little endian) 0xb7 = AArch64.
	[ -x "$ARM64_BUSYBOX" ] && [ "$(od -An -tx1 -j18 -N2 "$ARM64_BUSYBOX" | tr -d ' ')" = b700 ]
}

apt_step() {
	local need
	need=$(missing_apt | tr '\n' ' ')
	if [ -z "$need" ] && { arm64_busybox_ok || apt-cache show busybox-static:arm64 >/dev/null 2>&1; }; then
		log "apt: all packages present, skipping apt-get update"
		return 0
	fi
	# arm64 must be known before the update so one update fetches its lists.
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		log "apt: dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
	fi
	log "apt: apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >"$STACK_LOG/apt-update.log" 2>&1 ||
		{ tail_log "$STACK_LOG/apt-update.log"; die "apt-get update failed"; }
	if [ -n "$need" ]; then
		log "apt: installing $need"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need \
			>"$STACK_LOG/apt-install.log" 2>&1 ||
			{ tail_log "$STACK_LOG/apt-install.log"; die "apt-get install failed"; }
	fi
}

arm64_busybox_step() {
	if arm64_busybox_ok; then
		log "arm64 busybox: present at $ARM64_BUSYBOX"
		return 0
	fi
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
	fi
	if ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q >"$STACK_LOG/apt-update.log" 2>&1 ||
			{ tail_log "$STACK_LOG/apt-update.log"; die "apt-get update failed"; }
	fi
	local debdir=$STACK_CACHE/debs x debs
	mkdir -p "$debdir"
	debs=("$debdir"/busybox-static_*_arm64.deb)
	if [ ! -f "${debs[0]}" ]; then
		# apt-get download writes to the current directory; _apt needs to write there.
		(cd "$debdir" && apt-get download -q busybox-static:arm64) >"$STACK_LOG/apt-download.log" 2>&1 ||
			{ tail_log "$STACK_LOG/apt-download.log"; die "apt-get download busybox-static:arm64 failed"; }
	fi
	debs=("$debdir"/busybox-static_*_arm64.deb)
	x=$(mktemp -d)
	dpkg-deb -x "${debs[0]}" "$x"
	install -m 0755 "$x/bin/busybox" "$ARM64_BUSYBOX"
	rm -rf "$x"
	arm64_busybox_ok || die "$ARM64_BUSYBOX is not an arm64 ELF"
	log "arm64 busybox: extracted to $ARM64_BUSYBOX"
}

has_version() { # BIN VERSION ARGS...: true when BIN ARGS prints VERSION
	local bin=$1 want=$2 out
	shift 2
	[ -x "$bin" ] || return 1
	out=$("$bin" "$@" 2>/dev/null) || return 1
	grep -qF -- "$want" <<<"$out"
}

buildkit_step() {
	if has_version "$STACK_BIN/buildkitd" "$BUILDKIT_VERSION" --version &&
		has_version "$STACK_BIN/buildctl" "$BUILDKIT_VERSION" --version; then
		log "buildkit: $("$STACK_BIN/buildkitd" --version) already installed"
		return 0
	fi
	# "go install …/buildkitd@v" refuses BuildKit's go.mod (exclude
	# directives), so build inside the downloaded module instead.
	local dir ldflags
	dir=$(cd / && go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" | jq -r .Dir)
	[ -d "$dir" ] || die "go mod download github.com/moby/buildkit@$BUILDKIT_VERSION gave no directory"
	ldflags="-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit"
	(cd "$dir" && GOFLAGS="-mod=mod -buildvcs=false" go build "${GO_BUILD_FLAGS[@]}" -ldflags "$ldflags" \
		-o "$STACK_BIN/buildkitd.new" ./cmd/buildkitd)
	(cd "$dir" && GOFLAGS="-mod=mod -buildvcs=false" go build "${GO_BUILD_FLAGS[@]}" -ldflags "$ldflags" \
		-o "$STACK_BIN/buildctl.new" ./cmd/buildctl)
	# Rename into place so a running buildkitd's binary is never rewritten.
	mv -f "$STACK_BIN/buildkitd.new" "$STACK_BIN/buildkitd"
	mv -f "$STACK_BIN/buildctl.new" "$STACK_BIN/buildctl"
	has_version "$STACK_BIN/buildkitd" "$BUILDKIT_VERSION" --version || die "built buildkitd does not report $BUILDKIT_VERSION"
	log "buildkit: installed $("$STACK_BIN/buildkitd" --version)"
}

buildx_step() {
	if has_version "$STACK_BIN/docker-buildx" "$BUILDX_VERSION" version; then
		log "buildx: $("$STACK_BIN/docker-buildx" version) already built"
	else
		local gobin
		gobin=$(mktemp -d)
		(cd / && GOBIN=$gobin go install "${GO_BUILD_FLAGS[@]}" \
			-ldflags "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
			"github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION")
		mv -f "$gobin/buildx" "$STACK_BIN/docker-buildx"
		rmdir "$gobin"
	fi
	mkdir -p "$(dirname "$BUILDX_PLUGIN")"
	if ! cmp -s "$STACK_BIN/docker-buildx" "$BUILDX_PLUGIN"; then
		install -m 0755 "$STACK_BIN/docker-buildx" "$BUILDX_PLUGIN.new"
		mv -f "$BUILDX_PLUGIN.new" "$BUILDX_PLUGIN"
	fi
	if command -v docker >/dev/null; then
		has_version "$(command -v docker)" "$BUILDX_VERSION" buildx version ||
			die "'docker buildx version' does not report $BUILDX_VERSION (plugin at $BUILDX_PLUGIN)"
		log "buildx: $(docker buildx version)"
	else
		# No docker CLI: buildx also runs standalone; a tiny shim keeps
		# "docker buildx …" working for scripts and tests.
		log "buildx: no docker CLI on PATH, installing a 'docker buildx' shim in $STACK_BIN"
		# shellcheck disable=SC2016 # $1 and $@ belong to the shim
		printf '#!/bin/sh\n[ "$1" = buildx ] || { echo "docker shim: only buildx is available" >&2; exit 1; }\nshift\nexec "%s" "$@"\n' \
			"$STACK_BIN/docker-buildx" >"$STACK_BIN/docker"
		chmod 0755 "$STACK_BIN/docker"
	fi
}

syft_step() {
	export SYFT_CHECK_FOR_APP_UPDATE=false
	if has_version "$STACK_BIN/syft" "${SYFT_VERSION#v}" version; then
		log "syft: ${SYFT_VERSION} already installed"
		return 0
	fi
	if [ "${KILN_STACK_SYFT:-0}" != 1 ] || [ -n "${KILN_STACK_NO_SYFT:-}" ]; then
		log "syft: skipped (only the SBOM tests use it; KILN_STACK_SYFT=1 builds it, ~28 min)"
		return 0
	fi
	local gobin
	gobin=$(mktemp -d)
	(cd / && GOBIN=$gobin go install "${GO_BUILD_FLAGS[@]}" -ldflags "-X main.version=${SYFT_VERSION#v}" \
		"github.com/anchore/syft/cmd/syft@$SYFT_VERSION")
	mv -f "$gobin/syft" "$STACK_BIN/syft"
	rmdir "$gobin"
	has_version "$STACK_BIN/syft" "${SYFT_VERSION#v}" version || die "built syft does not report $SYFT_VERSION"
	log "syft: installed $SYFT_VERSION"
}

mkdir -p "$STACK_LOG"
t_all=$(date +%s)
step apt apt_step
step arm64-busybox arm64_busybox_step
step buildkit buildkit_step
step buildx buildx_step
step syft syft_step
log "install: all done in $(($(date +%s) - t_all))s; binaries in $STACK_BIN"
