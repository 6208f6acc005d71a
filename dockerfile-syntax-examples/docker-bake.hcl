# Builds every example image for amd64 and arm64 with one command, as a
# project with several apko configs would:
#
#   go run ./integration/cmd/testrepo --busybox-aarch64 ARM64_BUSYBOX --dir dockerfile-syntax-examples/local-repo/packages
#   (and the same for each example's packages/)
#   cd dockerfile-syntax-examples && docker buildx bake
#
# KILN_IMAGE points the configs' "# syntax=" line at another frontend
# image; OUTPUT_DIR writes each image as an OCI layout tar there; REGISTRY
# with PUSH=true pushes them instead. integration/bake_test.go runs it.
#
# `docker buildx bake melange-go` builds a package with melange and an
# image of it in one graph (see the targets at the end).

variable "KILN_IMAGE" {
  default = ""
}

variable "OUTPUT_DIR" {
  default = ""
}

variable "REGISTRY" {
  default = "registry.example/kiln-examples"
}

variable "PUSH" {
  default = false
}

variable "SOURCE_DATE_EPOCH" {
  default = "0"
}

# A melange signing key (PEM) for the melange-go package, passed as the
# melange.rsa secret. Without one, each time the package step runs (a
# source change, --no-cache, a pruned cache) it signs with a new key, and
# the image's keyring changes with it.
variable "MELANGE_KEY" {
  default = ""
}

group "default" {
  targets = ["image"]
}

# One target per example, each for both platforms: image-local-repo,
# image-no-shell, ...
target "image" {
  name = "image-${example}"
  matrix = {
    example = ["local-repo", "no-shell", "no-packages", "service-bundle", "certificates", "usr-merge"]
  }
  context    = example
  dockerfile = "apko.yaml"
  platforms  = ["linux/amd64", "linux/arm64"]
  args = merge(
    { SOURCE_DATE_EPOCH = SOURCE_DATE_EPOCH },
    KILN_IMAGE != "" ? { BUILDKIT_SYNTAX = KILN_IMAGE } : {},
  )
  tags = ["${REGISTRY}/${example}:latest"]
  output = OUTPUT_DIR != "" ? ["type=oci,dest=${OUTPUT_DIR}/${example}.tar"] : (PUSH ? ["type=registry"] : ["type=cacheonly"])
}

# melange -> apko in one graph: hello-go-pkg builds melange-go/melange.yaml
# into a signed repository that never touches the host; the image target
# takes it as the named context "built", which apko.yaml's ./built
# repository and ./built/melange.rsa.pub key are read from (a path's
# first element naming a context reads from it). Editing main.go rebuilds
# the package, and only its layer and the metadata layer of the image.
# Both build for the builder's platform: the example's go toolchain
# package is made for the host's.
#
#   go run ./integration/cmd/testrepo --goroot "$(go env GOROOT)" --dir dockerfile-syntax-examples/melange-go/packages
#   cd dockerfile-syntax-examples && MELANGE_KEY=melange.rsa docker buildx bake melange-go
group "melange-go" {
  targets = ["image-melange-go"]
}

target "hello-go-pkg" {
  context    = "melange-go"
  dockerfile = "melange.yaml"
  args = merge(
    { SOURCE_DATE_EPOCH = SOURCE_DATE_EPOCH },
    KILN_IMAGE != "" ? { BUILDKIT_SYNTAX = KILN_IMAGE } : {},
  )
  secret = MELANGE_KEY != "" ? ["id=melange.rsa,src=${MELANGE_KEY}"] : []
  output = OUTPUT_DIR != "" ? ["type=local,dest=${OUTPUT_DIR}/hello-go-pkg"] : ["type=cacheonly"]
}

target "image-melange-go" {
  context    = "melange-go"
  dockerfile = "apko.yaml"
  contexts   = { built = "target:hello-go-pkg" }
  args = merge(
    { SOURCE_DATE_EPOCH = SOURCE_DATE_EPOCH },
    KILN_IMAGE != "" ? { BUILDKIT_SYNTAX = KILN_IMAGE } : {},
  )
  tags   = ["${REGISTRY}/melange-go:latest"]
  output = OUTPUT_DIR != "" ? ["type=oci,dest=${OUTPUT_DIR}/melange-go.tar"] : (PUSH ? ["type=registry"] : ["type=cacheonly"])
}
