package imagefs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-build/kiln/step"
)

// checkBatches decides whether install batches run side by side made the
// layers they would have made one after another. Side by side, every
// batch but the first went through the first batch's links record only;
// one after another, each would have gone through the record of all the
// batches below it. A batch reads what is below it only through Lookup,
// and records the paths it looked up there, so its layers are the same
// either way when each of those paths has the same answer in both
// records. The chained records are rebuilt here, batch by batch, with the
// install step's own code over the layers each batch made: that is exact
// as long as every batch below passed the check.
func checkBatches(layers []string, batches []step.InstallBatch) (step.Verdict, error) {
	if len(batches) < 3 {
		// The second batch's record below is the first's either way.
		return step.Verdict{}, nil
	}
	total := 0
	for _, b := range batches {
		total += b.Layers
	}
	if total > len(layers) {
		return step.Verdict{}, fmt.Errorf("the batches hold %d layers, more than the %d below", total, len(layers))
	}
	first, err := newLayerView(batches[0].Links)
	if err != nil {
		return step.Verdict{}, err
	}
	given, chained := first.links, first.links
	at := len(layers) - total + batches[0].Layers
	for j := 1; j < len(batches); j++ {
		b := batches[j]
		if j >= 2 {
			looked, err := readLookups(b.Links)
			if err != nil {
				return step.Verdict{}, fmt.Errorf("install batch %d: %w", j+1, err)
			}
			for _, p := range looked {
				g, inGiven := given[p]
				c, inChained := chained[p]
				if inGiven != inChained || g != c {
					return step.Verdict{Differs: fmt.Sprintf("/%s: install batch %d found %s below it, the batches below would have given %s",
						p, j+1, linkOrNothing(g, inGiven), linkOrNothing(c, inChained))}, nil
				}
			}
		}
		if j == len(batches)-1 {
			break
		}
		next, err := handOn(chained, layers[at:at+b.Layers])
		if err != nil {
			return step.Verdict{}, fmt.Errorf("install batch %d: %w", j+1, err)
		}
		chained, at = next, at+b.Layers
	}
	return step.Verdict{}, nil
}

// handOn is the links record a batch of these layers would hand on, had
// it been given the record below.
func handOn(below map[string]string, layers []string) (map[string]string, error) {
	v := &layerView{links: below}
	defer v.close()
	for _, dir := range layers {
		if err := v.push(dir); err != nil {
			return nil, err
		}
	}
	links, err := v.collectLinks()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(links))
	for _, l := range links {
		out[l.Path] = l.Target
	}
	return out, nil
}

func readLookups(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, step.LookupsFile))
	if err != nil {
		return nil, err
	}
	var paths []string
	if err := json.Unmarshal(data, &paths); err != nil {
		return nil, fmt.Errorf("%s: %w", step.LookupsFile, err)
	}
	if len(paths) > maxLinks {
		return nil, fmt.Errorf("%s: %d entries", step.LookupsFile, len(paths))
	}
	return paths, nil
}

func linkOrNothing(target string, ok bool) string {
	if !ok {
		return "nothing"
	}
	return "a symlink to " + target
}
