# Throughput of the service on PostgreSQL with 1, 2 and 4 worker processes:
# 200 short jobs (jobs/s, submit→start p50/p99), River alone on the same
# database as the reference, and GET /v1/jobs/{id} under 500 loopback clients.
# -v prints the benchmark's notes (pick-ups, notifications heard, load average).
topics[throughput]="go test -v -run ^$ -bench WorkerScaling -benchtime 1x -timeout 30m ./e2e/"
