topics[fft]="go test -run ^$ -bench . -benchtime 2s -timeout 30m ./fft/ ./pde/navierstokes/ && go test -tags fftw -run ^$ -bench . -benchtime 2s -timeout 30m ./bench/fftw/"
