# The entry points humans and CI use. `make test` is the whole suite (what .ci/run runs).
.PHONY: build release run test test-swift test-compat lint format clean

build:
	swift build

release:
	swift build -c release

# Serve on the embedded default (SQLite in ./switchboard-data), on 127.0.0.1:8080.
run:
	swift run switchboard serve

# Every test: Swift unit, store and HTTP tests, then the official-SDK compatibility suite
# against the real server binary.
test: test-swift test-compat

test-swift:
	swift build --build-tests
	swift test --skip-build

test-compat: build
	tests/compat/run.sh

lint:
	scripts/validate.sh

format:
	git ls-files -z '*.swift' | xargs -0 swift format -i --parallel

clean:
	rm -rf .build .venv
