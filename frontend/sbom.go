package frontend

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/plan2llb"
)

// predicateSPDX is the in-toto predicate type of an SPDX document. A
// result carrying one tells BuildKit not to run its own scanner, which
// could only guess at what kiln knows.
const predicateSPDX = "https://spdx.dev/Document"

// defaultSBOMGenerator is the scanner BuildKit names when the user asked
// for an SBOM without choosing one (attestations.Parse's default).
const defaultSBOMGenerator = "docker/buildkit-syft-scanner:stable-1"

// wantSBOM reads --sbom / --attest type=sbom: kiln writes the SBOM itself,
// from the packages it installed, so it takes no scanner and no scanner
// parameters; asking for either is an error rather than silently ignored.
func wantSBOM(opt *dockerui.SBOM) (bool, error) {
	if opt == nil {
		return false, nil
	}
	if opt.Generator != "" {
		want, err := reference.ParseNormalizedNamed(defaultSBOMGenerator)
		if err != nil {
			return false, err
		}
		if opt.Generator != reference.TagNameOnly(want).String() {
			return false, fmt.Errorf("--attest type=sbom,generator=%s: kiln writes the SBOM from the packages it installed and runs no scanner; drop generator=", opt.Generator)
		}
	}
	var unknown []string
	for k, v := range opt.Parameters {
		if k == "disabled" && (v == "true" || v == "") {
			return false, nil
		}
		if k == "disabled" && v == "false" || k == "type" && v == "sbom" {
			continue // buildx repeats the attestation type among the parameters
		}
		unknown = append(unknown, k+"="+v)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return false, fmt.Errorf("--attest type=sbom,%s: kiln's SBOM takes no parameters (its content is the installed packages, not a scan)", strings.Join(unknown, ","))
	}
	return true, nil
}

// attachSBOMs adds each platform's document as its in-toto attestation;
// BuildKit makes the statement's subject that platform's manifest.
func attachSBOMs(ctx context.Context, rb *dockerui.ResultBuilder, plats []ocispecs.Platform, refs []client.Reference) error {
	byID := map[string]client.Reference{}
	for i, p := range plats {
		byID[platforms.FormatAll(platforms.Normalize(p))] = refs[i]
	}
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, p ocispecs.Platform) error {
		ref, ok := byID[id]
		if !ok || ref == nil {
			return fmt.Errorf("no SBOM built for platform %s", id)
		}
		rb.AddAttestation(id, result.Attestation[client.Reference]{
			Kind:     gatewaypb.AttestationKind_InToto,
			Ref:      ref,
			Path:     plan2llb.SBOMPath,
			Metadata: map[string][]byte{result.AttestationReasonKey: []byte(result.AttestationReasonSBOM)},
			InToto:   result.InTotoAttestation{PredicateType: predicateSPDX},
		})
		return nil
	})
}
