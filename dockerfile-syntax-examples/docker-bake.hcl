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
