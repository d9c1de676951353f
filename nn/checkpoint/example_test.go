package checkpoint_test

import (
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"eddy/nn"
	"eddy/nn/checkpoint"
)

// A model trained in one job is saved with its architecture; another job
// rebuilds it from the file alone.
func Example() {
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.h5")

	cfg := nn.FNOConfig{In: 2, Out: 1, Width: 8, Modes: []int{6}, Layers: 2, ProjWidth: 16, Activation: nn.ActGELU}
	model, err := nn.NewFNO(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		log.Fatal(err)
	}
	arch, err := json.Marshal(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := checkpoint.Save(path, arch, model.Params()); err != nil {
		log.Fatal(err)
	}

	// Elsewhere: read the architecture, build, load.
	arch, err = checkpoint.Architecture(path)
	if err != nil {
		log.Fatal(err)
	}
	cfg2, err := nn.ParseFNOConfig(arch)
	if err != nil {
		log.Fatal(err)
	}
	loaded, err := nn.NewFNO(cfg2, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		log.Fatal(err)
	}
	if err := checkpoint.Load(path, loaded.Params()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(arch))
	// 2·8+8 (lifting) + 2·(2·6·8·8 + 8·8+8) + 8·16+16 + 16+1 = 1865.
	fmt.Println(nn.CountParams(loaded.Params()))
	// Output:
	// {"in_channels":2,"out_channels":1,"width":8,"modes":[6],"layers":2,"proj_width":16,"activation":"gelu"}
	// 1865
}
