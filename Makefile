# Floe - the two commands: `make demo` and `make test`.
# This wrapper installs what is missing (scripts/bootstrap), then drives CMake.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
JOBS ?= $(shell nproc)
DEMO_ARGS ?=

.PHONY: all floe deps test-deps airflow-deps demo test unit unit-asan unit-tsan integration-tsan integration test-airflow dist test-dist bench bench-smoke clean lint chaos chaos-smoke
.PHONY: fuzz fuzz-build fuzz-smoke

all: floe

deps:
	@scripts/bootstrap

test-deps:
	@scripts/bootstrap --test

# Apache Airflow (airflow/requirements.lock) in .deps/airflow-venv-<hash>.
airflow-deps:
	@scripts/bootstrap --airflow >/dev/null

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

# ThreadSanitizer (cannot share a build with ASan): every unit test, data
# races and lock-order inversions fail it (tests/tsan.supp: third-party only).
unit-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFLOE_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS)

# The firehose server itself under TSan, driven by real clients: a report
# makes floe exit 66, which the tests' clean-exit checks refuse.
TSAN_INTEGRATION ?= tests/integration/test_firehose_isolation.py \
	tests/integration/test_firehose_api.py \
	tests/integration/test_firehose_update.py \
	tests/integration/test_firehose_errors.py
integration-tsan: unit-tsan test-deps
	TSAN_OPTIONS="suppressions=$(abspath tests/tsan.supp)" \
	FLOE_BIN=$(abspath $(TSAN_BUILD))/floe .venv/bin/python -m pytest -q $(TSAN_INTEGRATION)

# Includes the Airflow DAG tests (about 1.5 min, plus about 1 min for the
# first Airflow install); test-airflow runs them alone.
integration: floe test-deps airflow-deps
	FLOE_BIN=$(abspath $(BUILD))/floe .venv/bin/python -m pytest -q -m "not dist" tests/integration

test-airflow: floe test-deps airflow-deps
	FLOE_BIN=$(abspath $(BUILD))/floe .venv/bin/python -m pytest -q -m airflow tests/integration

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

lint:
	@scripts/lint

# dist/floe-<version>-linux-x86_64.tar.gz (relocatable, glibc >= 2.34:
# Amazon Linux 2023 / MWAA), then scripts/dist-check on an unpacked copy.
dist: deps
	JOBS=$(JOBS) scripts/dist

test-dist: deps test-deps
	JOBS=$(JOBS) .venv/bin/python -m pytest -q -m dist tests/integration

# The bench harness runs too, at smoke size (~15 s): it must not rot, but
# benchmark numbers are never asserted in tests.
test: lint unit unit-asan unit-tsan integration-tsan integration bench-smoke fuzz-smoke chaos-smoke

# kill -9 chaos on the whole pipeline (tests/chaos/README.md); CHAOS_SEED=N
# repeats a run, CHAOS_ARGS adds options (see tests/chaos/chaos.py --help).
CHAOS = nice -n 10 .venv/bin/python tests/chaos/chaos.py --floe $(BUILD)/floe
chaos: floe test-deps
	CHAOS_SEED=$(CHAOS_SEED) $(CHAOS) --out $(BUILD)/chaos $(CHAOS_ARGS)

chaos-smoke: floe test-deps
	CHAOS_SEED=$(CHAOS_SEED) $(CHAOS) --out $(BUILD)/chaos-smoke --orders 20000 \
	  --customers 1000 --rate 2000 --kills 6 $(CHAOS_ARGS)

# Benchmarks (bench/README.md): results in bench/results/latest.{json,md}.
BENCH_ARGS ?=
bench: floe test-deps
	.venv/bin/python bench/run --floe $(BUILD)/floe $(BENCH_ARGS)

bench-smoke: floe test-deps
	.venv/bin/python bench/run --quick --floe $(BUILD)/floe --out $(BUILD)/bench-smoke $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) build-dist dist
