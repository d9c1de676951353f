package stfno_test

import (
	"fmt"

	"eddy/nn"
	"eddy/solvers/stfno"
)

// The fno-mini network predicts 10 frames from 10, on the 32² grid it
// would be trained on and, zero-shot, on 64².
func Example() {
	m, err := stfno.New(stfno.DefaultConfig(), 1)
	if err != nil {
		panic(err)
	}
	fmt.Println("parameters:", nn.CountParams(m.Params()))
	for _, n := range []int{32, 64} {
		x := nn.NewTensor(1, 10, n, n) // 1 sample × 10 frames, each (y, x)
		y := m.Forward(x, 10)
		fmt.Println(y.Shape)
	}
	// Output:
	// parameters: 530905
	// [1 10 32 32]
	// [1 10 64 64]
}
