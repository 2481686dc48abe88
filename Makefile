# tenantstack: the only entry point people need.
#   make demo    bring up the local platform, onboard tenants, prove isolation
#   make test    unit tests, then integration tests against a fresh local platform
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
TOOLS_DIR  = $(shell tools/build.sh --path)
VERSION   ?= 0.1.0-dev
PROVIDER_VERSION := $(shell sed -n 's/^const ProviderVersion = "\(.*\)"/\1/p' internal/version/version.go)
LDFLAGS    = -X github.com/tenantstack/tenantstack/internal/version.Version=$(VERSION) \
             -X github.com/tenantstack/tenantstack/internal/toolchain.DefaultDir=$(TOOLS_DIR)
TENANTCTL := $(BIN)/tenantctl
# Integration suites run one at a time, each against its own fresh platform
# (a suite's stacks and tenants never meet another's): each stands up real
# stacks and the machine has two cores.
INTEGRATION_PKGS ?= $(filter-out test/bench/,$(sort $(dir $(wildcard test/*/*_test.go))))
BENCH_TENANTS ?= 50
BENCH_FLEET ?= 200
BENCH_ROWS ?= 1000000

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

.PHONY: tools
tools: ## build the offline toolchain (cached outside the checkout), our binaries, and register the plugins
	@tools/build.sh >/dev/null
	@$(MAKE) --no-print-directory build
	@scripts/register-plugins.sh "$(TOOLS_DIR)" "$(BIN)" "$(PROVIDER_VERSION)"

.PHONY: tools-path
tools-path: ## print the absolute directory holding the built tool binaries
	@echo $(TOOLS_DIR)

.PHONY: build
build: ## build tenantctl, our provider, language host and policy pack into ./bin
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/... ./policies/guardrails/cmd/...

.PHONY: docs
docs: ## regenerate the tenantctl reference in docs/cli (Markdown) and docs/man (man pages)
	rm -rf docs/cli docs/man
	$(GO) run ./cmd/gen-docs -markdown docs/cli -man docs/man

.PHONY: dev-up
dev-up: build ## start the local platform (PostgreSQL, PgBouncer, Redis, Kubernetes) on 127.0.0.1
	$(TENANTCTL) dev up

.PHONY: dev-down
dev-down: ## stop the local platform, keeping its data
	$(TENANTCTL) dev down

.PHONY: demo
demo: tools ## README step 1: platform up, tenants onboarded on every tier and verified
	scripts/demo.sh

.PHONY: test
test: tools test-unit test-integration ## README step 2: unit tests, then integration tests on a fresh platform

.PHONY: test-unit
test-unit: ## unit tests (no services needed)
	$(GO) test ./...

.PHONY: test-integration
test-integration: build ## integration tests against a platform started on free ports and stopped after
	@failed=""; for pkg in $(INTEGRATION_PKGS); do \
		echo "==> integration suite ./$$pkg"; \
		scripts/with-platform.sh $(GO) test -tags integration -count=1 -timeout 30m ./$$pkg || failed="$$failed ./$$pkg"; \
	done; if [ -n "$$failed" ]; then echo "FAILED integration suites:$$failed"; exit 1; fi

.PHONY: test-nightly
test-nightly: tools ## every suite, including the isolation attacks, against fresh ephemeral stacks
	$(GO) test ./...
	@failed=""; for pkg in $(INTEGRATION_PKGS); do \
		echo "==> integration suite ./$$pkg"; \
		NIGHTLY=1 scripts/with-platform.sh $(GO) test -tags integration -count=1 -timeout 60m -v ./$$pkg || failed="$$failed ./$$pkg"; \
	done; if [ -n "$$failed" ]; then echo "FAILED integration suites:$$failed"; exit 1; fi

.PHONY: bench
bench: bench-onboarding bench-rls bench-migrate bench-move bench-backup bench-noisy ## every benchmark; prints figures

.PHONY: bench-onboarding
bench-onboarding: tools ## onboard N tenants in sequence, then 4 in parallel; prints p50/p95, ratio, peak RSS
	BENCH_TENANTS=$(BENCH_TENANTS) scripts/with-platform.sh $(GO) test -tags integration -run '^$$' -bench Onboarding -benchtime 1x -timeout 80m ./test/bench/

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/...

.PHONY: clean
clean: ## remove ./bin (the toolchain cache stays; see make tools-path)
	rm -rf $(BIN)

.PHONY: bench-rls
bench-rls: tools ## pgbench: RLS against an application WHERE on a 1,000,000-row shared table (point lookup, insert, aggregate)
	scripts/with-platform.sh $(GO) test -tags integration -run '^$$' -bench RLS -benchtime 1x -timeout 30m ./test/bench/

.PHONY: bench-move
bench-move: tools ## move a tenant with BENCH_ROWS (1,000,000) rows in three tables shared -> schema under a writer and a reader; prints phases, pause, failures
	BENCH_ROWS=$(BENCH_ROWS) scripts/with-platform.sh $(GO) test -tags integration -run '^$$' -bench Move -benchtime 1x -timeout 30m ./test/bench/

.PHONY: bench-migrate
bench-migrate: tools ## create p50 with 20 migrations; one migration over BENCH_FLEET (200) mixed-tier tenants with --parallel 4
	BENCH_FLEET=$(BENCH_FLEET) scripts/with-platform.sh $(GO) test -tags integration -run '^$$' -bench Migrate -benchtime 1x -timeout 80m ./test/bench/

.PHONY: bench-backup
bench-backup: tools ## back up and restore a tenant with BENCH_ROWS (1,000,000) rows on each tier under its writer; prints times, archive size, write latency
	BENCH_ROWS=$(BENCH_ROWS) scripts/with-platform.sh $(GO) test -tags integration -run '^$$' -bench Backup -benchtime 1x -timeout 60m ./test/bench/

.PHONY: bench-noisy
bench-noisy: tools ## a quiet tenant's p50/p95 through PgBouncer alone and beside a noisy tenant on plan basic running runaway queries; prints the ratio
	scripts/with-platform.sh $(GO) test -tags integration -run '^$$' -bench NoisyNeighbour -benchtime 1x -timeout 30m ./test/bench/
