topics[gphm]="go test -v -run ^$ -bench 'Presets|KronCGIteration' -benchtime 1x -timeout 300m ./solvers/gphm/"
