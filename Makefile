# callgate: `make run` builds and serves configs/quickstart.hcl; `make test`
# is what CI runs.

GO      ?= go
BIN     := bin/callgate
PKG     := github.com/callgate/callgate
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X $(PKG)/gateway/cli.version=$(VERSION) -X $(PKG)/gateway/cli.commit=$(COMMIT)

.PHONY: build run test test-examples vet fmt-check lint bench loadtest proto clean dist

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The fake HubSpot (127.0.0.1:8090, sample contact 1001) runs beside the
# gateway so a first call needs no account; it stops with the gateway.
run: build
	@echo "callgate: serving configs/quickstart.hcl on http://127.0.0.1:8080 (dashboard: /ui/, admin token demo-admin-token),"
	@echo "callgate: with a fake HubSpot on http://127.0.0.1:8090. Place a first call from another terminal:"
	@echo "callgate:   ./$(BIN) webhook send --agent sales-intro --key demo-api-key --contact 1001"
	@echo "callgate: Ctrl-C stops both."
	@./$(BIN) fake hubspot --listen 127.0.0.1:8090 >/dev/null & fake=$$!; \
	trap 'kill $$fake 2>/dev/null' EXIT INT TERM; \
	./$(BIN) serve --config configs/quickstart.hcl

test: vet fmt-check
	$(GO) test -race ./...
	$(MAKE) test-examples

# The out-of-tree example plugin is its own module, built only against sdk/:
# its tests include the conformance suite run on its built binary.
test-examples:
	cd examples/leadform && $(GO) vet ./... && $(GO) test -race ./...

vet:
	$(GO) vet ./...

# Lists unformatted Go files (generated *.pb.go excluded) and fails if any.
fmt-check:
	@out="$$(find . -name '*.go' -not -name '*.pb.go' -not -path './.git/*' -print0 | xargs -0 gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

lint: vet fmt-check

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Signed single-event HubSpot webhooks from 32 clients against the gateway and
# against a bare net/http handler, in the same run (docs/performance.md).
loadtest: build
	./$(BIN) bench --clients 32 --duration 10s

# Regenerates the committed protobuf/gRPC code; the tools are pinned in go.mod.
proto:
	cd sdk/proto && $(GO) tool buf generate

# Release binaries: static (no cgo), version-stamped, one per platform, with
# a SHA256SUMS file beside them (docs/install.md). DIST_PLATFORMS narrows the
# set (the cheap check in gateway/cli's tests builds one). The last step runs
# the host's own binary, when it is among them, to show the stamp took.
DIST           := dist
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64

dist:
	@mkdir -p $(DIST)
	@set -e; for p in $(DIST_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/callgate-$$os-$$arch; \
		echo "callgate: building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $$out .; \
	done
	@cd $(DIST) && rm -f SHA256SUMS && sha256sum callgate-* > SHA256SUMS && cat SHA256SUMS
	@host=$(DIST)/callgate-$$($(GO) env GOOS)-$$($(GO) env GOARCH); \
	if [ -x $$host ]; then $$host version | grep -F '$(VERSION)' >/dev/null || \
		{ echo "callgate: $$host version does not report $(VERSION)"; exit 1; }; \
		echo "callgate: $$host version: $$($$host version)"; fi

clean:
	rm -rf bin $(DIST)
