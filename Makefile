# The one place that says how nbtunnel is checked: README, CI (.ci/run) and developers all run `make test`.
# End-to-end tests need root plus the packages scripts/install-deps installs; they skip when those are missing,
# unless NBTUNNEL_E2E=1 (CI sets it), in which case they fail.

GO ?= go
GOBIN := $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN := $(shell $(GO) env GOPATH)/bin
endif
STATICCHECK ?= $(GOBIN)/staticcheck
TEST_TIMEOUT ?= 45m
TEST_FLAGS ?=

.PHONY: test vet cross-vet staticcheck fmt-check go-test fuzz-smoke e2e-deps demo bench release

test: vet cross-vet staticcheck fmt-check fuzz-smoke go-test

vet:
	$(GO) vet ./...

# The Windows side (PuTTY's registry store, Pageant, console output) must at least compile and vet.
cross-vet:
	GOOS=windows $(GO) vet ./cmd/... ./hostconf/... ./install/... ./jupyter/... ./proxy/...
	GOOS=darwin $(GO) vet ./cmd/... ./hostconf/... ./install/... ./jupyter/... ./proxy/...

# Each fuzz target for a few seconds on top of its committed seed corpus.
fuzz-smoke:
	FUZZTIME="$${FUZZTIME:-3s}" scripts/fuzz-smoke

staticcheck:
	$(STATICCHECK) ./...

fmt-check:
	@out="$$(find . -name '*.go' -not -path '*/testdata/*' -not -path './.git/*' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

go-test:
	NBTUNNEL_E2E="$${NBTUNNEL_E2E:-}" $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

e2e-deps:
	scripts/install-deps

demo:
	scripts/demo

bench:
	@if [ -d bench ]; then $(GO) run ./bench; else echo "bench: no ./bench directory yet"; fi

# Release artifacts in dist/ (or DIST=...): static, reproducible binaries for linux/darwin/windows x amd64/arm64,
# .deb and .rpm (nfpm, through the Go module proxy), completions, SHA256SUMS. VERSION=v1.2.3 overrides git describe.
release:
	scripts/release
