# callgate: `make run` builds and serves configs/quickstart.hcl; `make test`
# is what CI runs.

GO      ?= go
BIN     := bin/callgate
PKG     := github.com/callgate/callgate
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X $(PKG)/gateway/cli.version=$(VERSION) -X $(PKG)/gateway/cli.commit=$(COMMIT)

.PHONY: build run test vet fmt-check lint bench proto clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build
	./$(BIN) serve --config configs/quickstart.hcl

test: vet fmt-check
	$(GO) test -race ./...

vet:
	$(GO) vet ./...

# Lists unformatted Go files (generated *.pb.go excluded) and fails if any.
fmt-check:
	@out="$$(find . -name '*.go' -not -name '*.pb.go' -not -path './.git/*' -print0 | xargs -0 gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

lint: vet fmt-check

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Regenerates the committed protobuf/gRPC code; the tools are pinned in go.mod.
proto:
	cd sdk/proto && $(GO) tool buf generate

clean:
	rm -rf bin
