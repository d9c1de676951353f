# Builds the three Eddy binaries on Debian with the HDF5 library the cgo binding needs.
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libhdf5-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -o /out/ ./cmd/...

# The runtime: HDF5, OpenBLAS (loaded by blas/ with dlopen("libopenblas.so.0");
# without it the solvers fall back to pure Go, several times slower) and the CA
# certificates an object store reached over HTTPS needs.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libhdf5-103-1 libopenblas0-pthread ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
ENV EDDY_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
CMD ["api"]
