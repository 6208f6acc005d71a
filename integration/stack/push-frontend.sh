#!/usr/bin/env bash
# Builds the kiln binary on the host and pushes the frontend image to the
# local registry (default 127.0.0.1:5000/kiln:dev, override with
# KILN_FRONTEND_IMAGE). No base image can be pulled offline, so this builds
# the repo's own Dockerfile.frontend with its "build" stage replaced by the
# host-built binary (a named context): labels and entrypoint come from that
# one file.
#
# KILN_FRONTEND_BIN=path  use this binary instead of building one
# KILN_FRONTEND_SRC=dir   build ./cmd/kiln from this module (default: repo root);
#                         a revision from before ./cmd/kiln-step existed (its
#                         steps run /bin/kiln) gets the repo root's, unused, as
#                         the image's Dockerfile copies one
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERFILE=$REPO_ROOT/Dockerfile.frontend
[ -f "$DOCKERFILE" ] || die "$DOCKERFILE missing"
command -v buildctl >/dev/null || die "buildctl not found: run integration/stack/install.sh"
buildctl --addr "$BUILDKIT_ADDR" debug workers >/dev/null 2>&1 ||
	die "buildkitd does not answer on $BUILDKIT_ADDR: run integration/stack/up.sh"

# The image is multi-platform so a builder node of either architecture
# runs the frontend natively.
FRONTEND_ARCHS=${KILN_FRONTEND_ARCHS:-amd64 arm64}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/context"

build_binary() {
	KILN_VERSION=devel
	if [ -n "${KILN_FRONTEND_BIN:-}" ]; then
		[ -x "$KILN_FRONTEND_BIN" ] || die "KILN_FRONTEND_BIN=$KILN_FRONTEND_BIN is not an executable file"
		cp "$KILN_FRONTEND_BIN" "$tmp/bin/kiln-amd64"
		(cd "$REPO_ROOT" && CGO_ENABLED=0 go build -p 2 -trimpath -ldflags="-s -w" -o "$tmp/bin/kiln-step-amd64" ./cmd/kiln-step) ||
			die "go build ./cmd/kiln-step failed"
		FRONTEND_ARCHS=amd64
		log "frontend: using prebuilt $KILN_FRONTEND_BIN (amd64 only)"
		return 0
	fi
	local src=${KILN_FRONTEND_SRC:-$REPO_ROOT} arch
	KILN_VERSION=$(bash "$src/hack/version" 2>/dev/null || echo devel)
	# Same flags as Dockerfile.frontend's build stage; static for FROM
	# scratch; one binary per platform the image is for.
	local step_src=$src
	if [ ! -d "$src/cmd/kiln-step" ]; then
		step_src=$REPO_ROOT
		log "frontend: $src has no cmd/kiln-step (its steps run /bin/kiln); the image gets $REPO_ROOT's, unused"
	fi
	for arch in $FRONTEND_ARCHS; do
		(cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -p 2 -trimpath -ldflags="-s -w -X main.version=$KILN_VERSION" -o "$tmp/bin/kiln-$arch" ./cmd/kiln) ||
			die "go build ./cmd/kiln for $arch in $src failed"
		(cd "$step_src" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -p 2 -trimpath -ldflags="-s -w" -o "$tmp/bin/kiln-step-$arch" ./cmd/kiln-step) ||
			die "go build ./cmd/kiln-step for $arch in $step_src failed"
	done
	log "frontend: built $src/cmd/kiln $KILN_VERSION for $FRONTEND_ARCHS ($(du -h "$tmp/bin/kiln-amd64" | cut -f1) each)"
}

push_image() {
	local progress=$tmp/progress.log digest
	# SOURCE_DATE_EPOCH + rewrite-timestamp: the same binary gives the same digest.
	if ! buildctl --addr "$BUILDKIT_ADDR" build \
		--progress=plain \
		--frontend dockerfile.v0 \
		--local dockerfile="$(dirname "$DOCKERFILE")" \
		--opt filename="$(basename "$DOCKERFILE")" \
		--local context="$tmp/context" \
		--local kilnbin="$tmp/bin" \
		--opt context:build=local:kilnbin \
		--opt build-arg:SOURCE_DATE_EPOCH=0 \
		--opt platform="$(printf 'linux/%s,' $FRONTEND_ARCHS | sed 's/,$//')" \
		--opt build-arg:KILN_VERSION="$KILN_VERSION" \
		--output "type=image,name=$KILN_FRONTEND_IMAGE,push=true,registry.insecure=true,rewrite-timestamp=true" \
		--metadata-file "$tmp/metadata.json" >"$progress" 2>&1; then
		tail -n 40 "$progress" >&2
		tail_log "$STACK_LOG/buildkitd.log" 20
		die "buildctl build of $DOCKERFILE failed"
	fi
	digest=$(jq -r '."containerimage.digest" // empty' "$tmp/metadata.json")
	[ -n "$digest" ] || die "buildctl wrote no containerimage.digest to its metadata file"
	log "frontend: pushed $KILN_FRONTEND_IMAGE@$digest"
	echo "$KILN_FRONTEND_IMAGE@$digest"
}

# A prebuilt binary reports its own version; the label says the same.
KILN_VERSION=devel
step build-kiln build_binary
if [ -n "${KILN_FRONTEND_BIN:-}" ]; then
	KILN_VERSION=$("$tmp/bin/kiln" version --short 2>/dev/null || echo devel)
fi
step push-image push_image
