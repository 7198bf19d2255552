# samsa: `make` builds build/samsa; `make run` and `make test` do all the set-up first.
# Everything real is in CMake (CMakePresets.json); this file is the front door.
PRESET ?= default
BUILD  ?= build
JOBS   ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all build configure deps run test test-unit test-asan bench format format-check lint docs clean proto kafka test-compat

all: build

deps:
	@scripts/deps.sh build

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake --preset $(PRESET) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Running needs the binary only, not the test programs (about half of the build steps).
run: configure
	@cmake --build $(BUILD) --target samsa -j $(JOBS)
	@$(BUILD)/samsa up $(ARGS)

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@cd $(BUILD) && ctest --output-on-failure -j 2 $(CTEST_ARGS)

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -L unit $(CTEST_ARGS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer. A sanitizer report
# fails the run even when the test passed (a broker's report at shutdown, a worker whose output a
# test discards): ASan/LSan reports of every process go to files in build-asan/sanitizer-reports/
# (gcc's UBSan ignores log_path next to ASan, so its "runtime error:" lines are found in the log).
SAN_REPORTS = $(CURDIR)/build-asan/sanitizer-reports
test-asan:
	@scripts/deps.sh test
	@[ -f build-asan/build.ninja ] || cmake --preset asan-ubsan $(CMAKE_ARGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	@cd build-asan && rc=0; TEST_TIMEOUT_SCALE=3 ASAN_OPTIONS=log_path=$(SAN_REPORTS)/asan \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 2 $(CTEST_ARGS) || rc=$$?; \
	  if [ -n "$$(ls -A $(SAN_REPORTS))" ]; then \
	    echo "ASan reports (build-asan/sanitizer-reports/):"; head -n 40 $(SAN_REPORTS)/*; rc=1; \
	  fi; \
	  if grep -n -B2 -A12 'runtime error:' Testing/Temporary/LastTest.log; then \
	    echo "UBSan reports above (build-asan/Testing/Temporary/LastTest.log)"; rc=1; \
	  fi; exit $$rc

bench:
	@scripts/deps.sh test
	@[ -f build-release/build.ninja ] || cmake --preset release >/dev/null
	@cmake --build build-release -j $(JOBS)
	@scripts/bench.sh build-release

SOURCES = $(shell git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' | grep -v '/gen/')

format:
	@scripts/deps.sh dev
	@clang-format -i $(SOURCES)

# CI: fail if any source is not formatted as `make format` would leave it.
format-check:
	@scripts/deps.sh dev
	@clang-format --dry-run --Werror $(SOURCES)

# The module layering first (scripts/check_layers.py: an include that crosses it fails), then
# cppcheck over every committed .c file but the generated codec, without the system headers (fast
# and the same on every machine): .ci/cppcheck.cfg spells out the library macros it needs,
# .ci/cppcheck-suppressions.txt lists the false positives. Any finding fails.
lint:
	@python3 scripts/check_layers.py
	@scripts/deps.sh dev
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --library=.ci/cppcheck.cfg --suppressions-list=.ci/cppcheck-suppressions.txt \
	  --suppress=missingIncludeSystem --std=c11 -I src $(filter %.c,$(SOURCES))

docs: build
	@$(BUILD)/samsa config-docs > docs/configuration.md

# The README's screenshots (docs/screenshots/*.png), taken by the browser tests of the blog (0070)
# and the console (0141) in headless chromium; a plain test run keeps its screenshots in the
# build dir.
screenshots:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@cd $(BUILD) && SAMSA_DOCS_SCREENSHOTS=$(CURDIR)/docs/screenshots ctest --output-on-failure \
		-R '0070-web-browser|0141-console-browser'

# The client compatibility matrix (docs/compat.md): librdkafka, kcat, kafka-python, Java, Kafka's
# CLI tools, franz-go, sarama, kafkajs against samsa and against real Apache Kafka. The first run
# fetches jars/venv/modules into ~/.cache/samsa ($SAMSA_CACHE). COMPAT_ARGS="--targets samsa" etc.
test-compat:
	@scripts/deps.sh test compat
	@$(MAKE) --no-print-directory build
	@/usr/bin/python3 tests/compat/run.py --samsa $(BUILD)/samsa $(COMPAT_ARGS)
	@tests/compat/e2e-real-kafka.sh $(BUILD)
	@tests/compat/connect.sh $(BUILD)
	@tests/compat/acls.sh $(BUILD)

# A real Apache Kafka (KRaft, jars from Maven Central) to test against: `make kafka` starts one and
# prints BOOTSTRAP=...; `make kafka STOP=1` stops it. See docs/compat.md.
KAFKA_DIR ?= /tmp/samsa-kafka
kafka:
	@scripts/kafka/real-kafka.sh $(if $(STOP),stop --dir $(KAFKA_DIR),start --dir $(KAFKA_DIR) $(KAFKA_ARGS))

# Regenerate the Kafka codec (src/proto/gen/, committed) from Kafka's JSON message definitions:
# by default the copy in third_party/kafka/message (byte for byte what is committed). Other
# definitions: make proto KAFKA_MESSAGE_DIR=DIR KAFKA_SPEC_VERSION="Apache Kafka X.Y.Z" (DIR is
# Kafka's clients/src/main/resources/common/message); the copy is updated to match.
proto:
	@python3 scripts/gen_proto.py

clean:
	rm -rf build build-debug build-release build-asan build-fuzz
