# pgcc / pgmigrate - see README.md. `make demo` and `make test` are the two
# commands a newcomer needs; CI runs .ci/run, which installs the daemons and
# then runs `make test` with PGCC_REQUIRE_DAEMONS=1.
GO      ?= go
BIN     := bin
PKGS    := ./...

.PHONY: all build test demo bench fmt vet update-golden fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# Compile the bundled example inventory into examples/bundle.
demo: build
	$(BIN)/pgcc build -i examples/pigsty.yml -o examples/bundle
	$(BIN)/pgcc build -i examples/pigsty.yml -o examples/bundle --check
	@echo "bundle written to examples/bundle:"; find examples/bundle -type f | sort | sed 's/^/  /'

# Unit, golden, CLI and real-daemon tests (daemon tests skip without the
# daemons unless PGCC_REQUIRE_DAEMONS=1), benchmark smoke, leak check.
test:
	scripts/test

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet $(PKGS)

# Rewrite every golden file from the current code; review the diff!
update-golden:
	PGCC_UPDATE=1 $(GO) test -count=1 $(PKGS)

# Fuzz targets, 60 s each (not part of `make test`).
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./render/sqltext -run '^$$' -fuzz '^FuzzLiteral$$' -fuzztime $(FUZZTIME)
	$(GO) test ./render/sqltext -run '^$$' -fuzz '^FuzzIdent$$' -fuzztime $(FUZZTIME)
	$(GO) test ./migrate/db -run '^$$' -fuzz '^FuzzCopyOutReader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./migrate/config -run '^$$' -fuzz '^FuzzParseConninfo$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf $(BIN) examples/bundle test.json bench-smoke.txt

# Only the HA end-to-end scenario (golden/e2e/README.md): pgcc builds a loopback
# inventory and a real Patroni/etcd cluster with PgBouncer and HAProxy boots from
# the bundle, switches over and fails over (~45 s; `make test` runs it too).
# PGCC_E2E_BREAK=hba|check simulates a broken renderer: the run must fail.
.PHONY: e2e
e2e:
	$(GO) test -count=1 -timeout 5m -run '^(TestHAScenario|TestSandbox.*)$$' -v ./golden/e2e
