topics[nn]="go test -run ^$ -bench . -benchtime 3x -timeout 30m ./nn/... ./blas/"
