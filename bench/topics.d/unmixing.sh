# The comparison table (every method on every row) and the per-iteration
# timings; BenchmarkConvergenceJasper (5000-iteration runs) is left to an
# explicit -bench run.
topics[unmixing]="go test -v -run ^$ -bench 'Iteration|FCLS|VCA|Table' -benchtime 1x -timeout 120m ./hyperspectral/"
