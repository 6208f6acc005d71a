package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"gopkg.in/yaml.v3"
)

// workflow is the part of a GitHub Actions workflow the replay reads.
type workflow struct {
	Jobs map[string]struct {
		Strategy struct {
			Matrix struct {
				Include []map[string]string `yaml:"include"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestExampleWorkflow replays the example GitHub Actions workflow on the
// stack: its build-push-action step, with every input it sets turned into
// the buildx flag the action passes (the GitHub Actions cache replaced by
// a local one), once per matrix platform, pushing by digest; then its
// merge step's imagetools create. The result is one index with both
// platforms, each with its SBOM and provenance.
func TestExampleWorkflow(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	data, err := os.ReadFile("../dockerfile-syntax-examples/.github/workflows/image.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	build, ok := wf.Jobs["build"]
	if !ok {
		t.Fatal("no build job")
	}
	var with map[string]string
	for _, s := range build.Steps {
		if strings.HasPrefix(s.Uses, "docker/build-push-action@") {
			with = s.With
		}
	}
	if with == nil {
		t.Fatal("the build job has no docker/build-push-action step")
	}

	// The repository the workflow builds: an apko.yaml at its root.
	ctx := exampleContext(t, "local-repo", nil, 0)
	image := fmt.Sprintf("%s/kiln-e2e/workflow", registry)
	cache := t.TempDir()
	var digests []string
	for _, m := range build.Strategy.Matrix.Include {
		pair := strings.ReplaceAll(m["platform"], "/", "-")
		expr := regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
		subst := func(s string) string {
			return expr.ReplaceAllStringFunc(s, func(e string) string {
				switch v := expr.FindStringSubmatch(e)[1]; v {
				case "matrix.platform":
					return m["platform"]
				case "steps.pair.outputs.pair":
					return pair
				case "env.IMAGE":
					return image
				case "github.event_name != 'pull_request'":
					return "true"
				default:
					t.Fatalf("the replay does not know %s", e)
					return ""
				}
			})
		}
		meta := filepath.Join(t.TempDir(), "metadata.json")
		args := []string{"--metadata-file", meta}
		for _, k := range sortedKeys(with) {
			v := subst(with[k])
			switch k {
			case "context":
				if v != "." {
					t.Fatalf("context %q: the replay builds the repository root", v)
				}
			case "file":
				args = append(args, "-f", filepath.Join(ctx, v))
			case "platforms":
				args = append(args, "--platform", v)
			case "sbom":
				args = append(args, "--sbom="+v)
			case "provenance":
				args = append(args, "--provenance="+v)
			case "cache-from":
				args = append(args, "--cache-from", strings.Replace(v, "type=gha,scope=", "type=local,src="+cache+"/", 1))
			case "cache-to":
				args = append(args, "--cache-to", regexp.MustCompile(`type=gha,(.*)scope=`).ReplaceAllString(v, "type=local,${1}dest="+cache+"/"))
			case "outputs":
				args = append(args, "--output", v+",registry.insecure=true")
			default:
				t.Fatalf("build-push-action input %s: the replay does not know its flag", k)
			}
		}
		cmd := exec.Command("docker", append(append([]string{"buildx", "build", "--builder", builderName(), "--progress", "plain",
			"--build-arg", "BUILDKIT_SYNTAX=" + frontendImage()}, args...), ctx)...)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", m["platform"], err, lastLines(b.String(), 20))
		}
		var md map[string]any
		dt, _ := os.ReadFile(meta)
		json.Unmarshal(dt, &md)
		d, _ := md["containerimage.digest"].(string)
		if d == "" {
			t.Fatalf("%s: no digest in %s", m["platform"], dt)
		}
		digests = append(digests, d)
	}

	// The merge job.
	tag := fmt.Sprintf("%s:run-%d", image, time.Now().UnixNano())
	args := []string{"buildx", "imagetools", "create", "--builder", builderName(), "-t", tag}
	for _, d := range digests {
		args = append(args, image+"@"+d)
	}
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("imagetools create: %v\n%s", err, out)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(registryGet(t, "kiln-e2e/workflow", "manifests", strings.TrimPrefix(tag, image+":")), &idx); err != nil {
		t.Fatal(err)
	}
	var plats, attests []string
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			var m ocispecs.Manifest
			json.Unmarshal(registryGet(t, "kiln-e2e/workflow", "manifests", d.Digest.String()), &m)
			for _, l := range m.Layers {
				attests = append(attests, l.Annotations["in-toto.io/predicate-type"])
			}
			continue
		}
		plats = append(plats, d.Platform.Architecture)
	}
	sort.Strings(plats)
	sort.Strings(attests)
	if strings.Join(plats, " ") != "amd64 arm64" {
		t.Errorf("merged index platforms %v", plats)
	}
	want := "https://slsa.dev/provenance/v1 https://slsa.dev/provenance/v1 https://spdx.dev/Document https://spdx.dev/Document"
	if strings.Join(attests, " ") != want {
		t.Errorf("attestations %v, want an SBOM and a provenance per platform", attests)
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
