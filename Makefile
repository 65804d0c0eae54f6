# The entry points humans and CI use. `make test` is the whole suite (what .ci/run runs).

# SwiftPM refuses an import of a target that is not a dependency at all (scripts/check-imports.py,
# run by `make lint`, also refuses one reached only transitively).
SWIFT_BUILD_FLAGS := --explicit-target-dependency-import-check error
.PHONY: build release run run-postgres test test-swift test-compat test-oauth test-dashboard test-robustness soak bench bench-smoke lint format db-up db-down secrets-up secrets-down clean

build:
	swift build $(SWIFT_BUILD_FLAGS)

release:
	swift build -c release $(SWIFT_BUILD_FLAGS)

# Serve on the embedded default (SQLite in ./switchboard-data), on 127.0.0.1:8080.
run:
	swift run switchboard serve

# Everything: Swift tests and the SDK suite on SQLite and PostgreSQL, replicas, outage, OAuth,
# robustness, benchmark smoke. Checks prerequisites first; starts a throwaway PostgreSQL on
# 127.0.0.1:25432 and moto/OpenBao on 25401/25402 and stops them at the end (servers already
# running are reused and left running; `make db-down` and `make secrets-down` stop those).
test:
	scripts/test-all.sh

# Quick loop: Swift tests on SQLite only (PostgreSQL too when SWITCHBOARD_TEST_POSTGRES_URL is set).
test-swift:
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build

test-compat: build
	e2e/compat/run.sh

# OAuth end to end (e2e/oauth): the authorization flow, re-authorization and token refresh against
# a real OAuth 2 server (Authlib, 127.0.0.1:31410), on SQLite and on PostgreSQL (throwaway server on
# 127.0.0.1:25432), two replicas racing to refresh one token included.
test-oauth: build
	SWITCHBOARD_DATABASE_URL="$$(scripts/postgres-up.sh)?sslmode=disable" SWITCHBOARD_REQUIRE_POSTGRES=1 \
	e2e/oauth/run.sh

# The dashboard and the hosted Connect page (e2e/dashboard) in headless chromium (apt-get install
# chromium chromium-driver): sign-in, filters, keys, sessions across a restart and two replicas,
# the Connect page through the OAuth provider (127.0.0.1:31420), attacks; on SQLite and on
# PostgreSQL (throwaway server on 127.0.0.1:25432). With
# SWITCHBOARD_DASHBOARD_SCREENSHOTS=docs/dashboard it also refreshes the screenshots of docs/dashboard.md.
test-dashboard: build
	SWITCHBOARD_DATABASE_URL="$$(scripts/postgres-up.sh)?sslmode=disable" SWITCHBOARD_REQUIRE_POSTGRES=1 \
	e2e/dashboard/run.sh

# Robustness suite (docs/reliability.md) on SQLite, then on PostgreSQL (throwaway server on
# 127.0.0.1:25432): schemathesis fuzzing, SIGKILL crash safety, a 40 s soak, graceful shutdown,
# hostile input.
test-robustness: build
	scripts/test-robustness.sh

# The long soak: 60 s warm-up, then 300 s at 100 req/s, per backend
# (SWITCHBOARD_SOAK_SECONDS, SWITCHBOARD_SOAK_WARMUP_SECONDS, SWITCHBOARD_SOAK_RATE override).
soak: build
	SWITCHBOARD_SOAK_SECONDS=$${SWITCHBOARD_SOAK_SECONDS:-300} \
	SWITCHBOARD_SOAK_WARMUP_SECONDS=$${SWITCHBOARD_SOAK_WARMUP_SECONDS:-60} \
	scripts/test-robustness.sh -k soak

# The full benchmark (release build, 10,000 and 1,000,000 connections, both backends, ~25 min):
# rewrites docs/benchmarks.md and docs/benchmarks.json.
bench:
	scripts/bench.sh

# The small run CI does (debug build, 20,000 connections, ~3 min).
bench-smoke:
	scripts/bench.sh --smoke

lint:
	scripts/validate.sh

format:
	git ls-files -z '*.swift' | xargs -0 swift format -i --parallel

db-up:
	scripts/postgres-up.sh

db-down:
	scripts/postgres-down.sh

# moto_server and OpenBao's dev server on 127.0.0.1:25401/25402 for the secrets-manager tests:
# `eval "$$(scripts/secrets-up.sh)"` in a shell exports what `swift test` needs.
secrets-up:
	scripts/secrets-up.sh

secrets-down:
	scripts/secrets-down.sh

clean:
	rm -rf .build .venv
