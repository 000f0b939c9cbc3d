# The two commands of the quick start, and a few helpers. CMake does the
# building; this file only strings the steps together.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

FUZZ_SECONDS ?= 20

.PHONY: all setup build run test test-asan fuzz fuzz-short bench clean

all: build

setup:
	bash scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Installs everything, builds, and cleans the embedded sample.
run: build
	rm -rf out/demo
	./$(BUILD)/corpusmill run configs/demo.yaml -j 2

# Installs everything, builds, and runs the whole test suite, then again
# under AddressSanitizer + UndefinedBehaviorSanitizer, then every fuzz
# target for FUZZ_SECONDS.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) fuzz-short

test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCORPUSMILL_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (fuzz/): a short run each (CI), or 10 minutes each.
fuzz-short: setup
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz: setup
	bash scripts/fuzz.sh 600

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz out
