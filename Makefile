# Eddy — build, run, test, benchmark.
#   make run    install what is missing, build, start the API with embedded workers (SQLite)
#   make test   the whole test suite (starts a throw-away PostgreSQL for the service tests)
#   make bench  the benchmarks; tables go to bench/results/

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export CGO_ENABLED := 1
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libhdf5-dev pkg-config gcc libopenblas0-pthread

.PHONY: all deps deps-test build run test fuzz-short bench vet clean

all: build

# System packages: HDF5 for the cgo binding, and PostgreSQL for the service tests.
deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is required (https://go.dev/doc/install)"; exit 1; }
	@if ! pkg-config --exists hdf5 2>/dev/null || ! command -v gcc >/dev/null || ! ls /usr/lib/*/libopenblas.so.0 >/dev/null 2>&1; then \
		echo "installing $(APT_PACKAGES)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

deps-test: deps
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "$$TEST_DATABASE_URL" ]; then \
		echo "installing postgresql for the service tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; \
	fi

build: deps
	$(GO) build -o bin/ ./cmd/...

run: build
	./bin/api

test: deps-test
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...
	$(GO) test -race -count=1 -run 'MGDeterm|MGFused|Split|MGWorker' ./solvers/krylov
	$(GO) test -race -count=1 -run 'Hedged|VariantsAhead|Outrun|BackgroundPanic' ./solvers/gphm
	$(MAKE) --no-print-directory fuzz-short

# A short run of every fuzz target (func Fuzz… in any _test.go), each on its own:
# the committed corpora under testdata/fuzz are replayed by the plain test run
# above; this explores beyond them for FUZZTIME per target. A count of inputs
# (20000x) rather than a duration: when a duration runs out while a worker is
# busy, go test can report the deadline itself as a failure.
FUZZTIME ?= 20000x
fuzz-short:
	@for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$f); \
		for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "fuzz $$dir $$name for $(FUZZTIME)"; \
			log=$$(mktemp); \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$dir >$$log 2>&1 \
				|| { cat $$log; rm -f $$log; exit 1; }; \
			rm -f $$log; \
		done; \
	done

bench: deps-test
	@pkg-config --exists fftw3 2>/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libfftw3-dev libopenblas-dev; }
	./bench/run.sh

clean:
	rm -rf bin
