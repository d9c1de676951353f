topics[gphm]="go test -run ^$ -bench 'Presets|KronCGIteration' -benchtime 1x -timeout 300m ./solvers/gphm/"
