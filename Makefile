# Floe - the two commands: `make demo` and `make test`.
# This wrapper installs what is missing (scripts/bootstrap), then drives CMake.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
JOBS ?= $(shell nproc)
DEMO_ARGS ?=

.PHONY: all floe deps test-deps demo test unit unit-asan integration bench bench-smoke clean lint
.PHONY: fuzz fuzz-build fuzz-smoke

all: floe

deps:
	@scripts/bootstrap

test-deps:
	@scripts/bootstrap --test

floe: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: floe
	$(BUILD)/floe demo $(DEMO_ARGS)

unit: floe
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFLOE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# libFuzzer harnesses (tests/fuzz, Debian's clang): `make fuzz` runs each
# for FUZZ_SECONDS; new corpus entries stay in $(FUZZ_BUILD)/fuzz-corpus.
fuzz-build: test-deps
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOE_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz

fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS)

integration: floe test-deps
	FLOE_BIN=$(abspath $(BUILD))/floe .venv/bin/python -m pytest -q tests/integration

lint:
	@scripts/lint

# The bench harness runs too, at smoke size (~15 s): it must not rot, but
# benchmark numbers are never asserted in tests.
test: lint unit unit-asan integration bench-smoke fuzz-smoke

# Benchmarks (bench/README.md): results in bench/results/latest.{json,md}.
BENCH_ARGS ?=
bench: floe test-deps
	.venv/bin/python bench/run --floe $(BUILD)/floe $(BENCH_ARGS)

bench-smoke: floe test-deps
	.venv/bin/python bench/run --quick --floe $(BUILD)/floe --out $(BUILD)/bench-smoke $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
