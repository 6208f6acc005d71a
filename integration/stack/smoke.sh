#!/usr/bin/env bash
# Smoke check of a running stack (after up.sh and push-frontend.sh):
#  1. buildx on the "kiln" builder exports an OCI tar whose image layer
#     really holds the file that was copied in;
#  2. a linux/arm64 exec runs an arm64 busybox under qemu and reports
#     aarch64;
#  3. the frontend image in the registry carries Dockerfile.frontend's
#     labels and entrypoint.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -f "$STACK/env" ] || die "$STACK/env missing: run integration/stack/up.sh"
# shellcheck disable=SC1091
. "$STACK/env"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	[ -f "$tmp/build.log" ] && tail -n 40 "$tmp/build.log" >&2
	tail_log "$STACK_LOG/buildkitd.log" 20
	die "$*"
}

buildx() { docker buildx build --builder "$BUILDER_NAME" --progress=plain "$@" >"$tmp/build.log" 2>&1; }

oci_export() {
	local ctx=$tmp/oci-ctx out=$tmp/oci-out idx mf layer want got
	mkdir -p "$ctx" "$out"
	want="kiln smoke $$ $(date +%s%N)"
	printf '%s\n' "$want" >"$ctx/hello.txt"
	printf 'FROM scratch\nCOPY hello.txt /hello.txt\n' >"$ctx/Dockerfile"
	buildx --output "type=oci,dest=$tmp/out.tar" "$ctx" || fail "docker buildx build --output type=oci failed"
	tar -xf "$tmp/out.tar" -C "$out"
	[ -f "$out/index.json" ] || fail "OCI tar has no index.json"
	# index.json -> (image index ->) the linux/amd64 manifest -> its one layer.
	idx=$(jq -r '.manifests[0].digest' "$out/index.json")
	mf=$idx
	if jq -e '.mediaType | test("index")' "$out/blobs/${idx/://}" >/dev/null; then
		mf=$(jq -r '[.manifests[] | select(.platform.architecture == "amd64")][0].digest' "$out/blobs/${idx/://}")
	fi
	layer=$(jq -r '.layers[-1].digest' "$out/blobs/${mf/://}")
	got=$(tar -xzOf "$out/blobs/${layer/://}" hello.txt) || fail "layer $layer has no hello.txt"
	[ "$got" = "$want" ] || fail "hello.txt in the image reads '$got', want '$want'"
	log "oci: $(du -h "$tmp/out.tar" | cut -f1) OCI tar, index.json present, layer $layer holds hello.txt"
}

arm64_exec() {
	local ctx=$tmp/arm-ctx out=$tmp/arm-out got
	[ -x "$KILN_ARM64_BUSYBOX" ] || fail "$KILN_ARM64_BUSYBOX missing: run integration/stack/install.sh"
	mkdir -p "$ctx" "$out"
	cp "$KILN_ARM64_BUSYBOX" "$ctx/busybox"
	# Exec form: scratch has no /bin/sh. --no-cache so qemu really runs.
	cat >"$ctx/Dockerfile" <<-'DF'
		FROM scratch AS run
		COPY busybox /busybox
		RUN ["/busybox", "sh", "-c", "/busybox uname -m >/arch"]
		FROM scratch
		COPY --from=run /arch /arch
	DF
	buildx --no-cache --platform linux/arm64 --output "type=local,dest=$out" "$ctx" ||
		fail "linux/arm64 build with an arm64 busybox failed"
	got=$(cat "$out/arch" 2>/dev/null) || fail "arm64 build wrote no /arch"
	[ "$got" = aarch64 ] || fail "uname -m under linux/arm64 printed '$got', want aarch64"
	log "arm64: busybox uname -m = $got"
}

frontend_image() {
	local ref=docker://$KILN_FRONTEND_IMAGE cfg want val
	cfg=$(skopeo inspect --tls-verify=false --config "$ref" 2>"$tmp/skopeo.err") || {
		cat "$tmp/skopeo.err" >&2
		die "cannot inspect $KILN_FRONTEND_IMAGE: run integration/stack/push-frontend.sh first"
	}
	# Each LABEL/ENTRYPOINT of Dockerfile.frontend's final stage must be in the image.
	while IFS= read -r line; do
		case $line in
		LABEL\ *)
			want=${line#LABEL }
			val=${want#*=}
			val=${val#\"}
			val=${val%\"}
			jq -e --arg k "${want%%=*}" --arg v "$val" \
				'.config.Labels[$k] == $v' <<<"$cfg" >/dev/null ||
				die "$KILN_FRONTEND_IMAGE lacks label $want"
			;;
		ENTRYPOINT\ *)
			jq -e --argjson e "${line#ENTRYPOINT }" '.config.Entrypoint == $e' <<<"$cfg" >/dev/null ||
				die "$KILN_FRONTEND_IMAGE entrypoint is $(jq -c .config.Entrypoint <<<"$cfg"), want ${line#ENTRYPOINT }"
			;;
		esac
	done < <(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' "$REPO_ROOT/Dockerfile.frontend")
	log "frontend: $KILN_FRONTEND_IMAGE has Dockerfile.frontend's labels and entrypoint"
}

step oci-export oci_export
step arm64-exec arm64_exec
step frontend-image frontend_image
log "smoke: all checks passed"
