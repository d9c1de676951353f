topics[unmixing]="go test -v -run ^$ -bench . -benchtime 1x -timeout 60m ./hyperspectral/"
