module github.com/kiln-build/kiln

go 1.26.8

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/moby/buildkit v0.33.1 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	github.com/spdx/tools-golang v0.5.7 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
