topics[walloc-entropy]="GOMAXPROCS=1 go test -run ^$ -bench Latents -benchtime 2s -count 3 -timeout 30m ./codec/walloc/"
