# runctl: `make demo` runs a short session on a scratch database, `make test` runs every test.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps deps-tool build build-tests test demo install bench fuzz test-sanitize format clean

all: build

# What building the tool needs; `deps` adds doctest and the PostgreSQL server the tests use.
deps-tool:
	@scripts/install-deps.sh --tool

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DBUILD_TESTING=OFF

# The runctl binary alone (with its man page and completions): no test is compiled, doctest is
# not needed.
build: deps-tool $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target runctl runctl_docs

build-tests: deps $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) -DBUILD_TESTING=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Both backends: with-postgres.sh starts a throwaway PostgreSQL cluster for the run (or uses
# RUNCTL_TEST_PG's server), so cli-postgres/ and the PostgreSQL contract tests run too. One ctest
# job per core; tests/CMakeLists.txt marks the cases that must run alone.
test: build-tests
	scripts/with-postgres.sh ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure

demo: build
	@scripts/demo.sh $(BUILD)/runctl

# A stripped binary in $(DESTDIR)$(PREFIX)/bin, the man page and the completions, as
# `cmake --install` does.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Its own optimized build directory (RelWithDebInfo, as users build it, with -DRUNCTL_BENCH=ON),
# never the test build's; prints one table (docs/performance.md). Not part of `make test`.
bench: deps
	@scripts/bench.sh $(BUILD)-bench

fuzz:
	@scripts/fuzz.sh

test-sanitize: build-tests
	@TEST_BUILD=$(BUILD) JOBS=$(JOBS) scripts/test-sanitize.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
