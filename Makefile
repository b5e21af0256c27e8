# Thin wrapper over CMake: `make demo` runs ebb's main job, `make test`
# builds with ASan+UBSan and runs every test. See README.md.
BUILD      ?= build
TESTBUILD  ?= build-test
FUZZBUILD  ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all deps build demo test bench bench-slurm stress fuzz install clean

all: build

deps:
	sh .ci/deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEBB_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	bash examples/demo.sh $(BUILD)

test: deps
	cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=Debug -DEBB_SANITIZE=ON \
	    -DEBB_WERROR=ON
	cmake --build $(TESTBUILD) -j$(JOBS)
	sh tests/run.sh $(TESTBUILD) $(JOBS)

bench: build
	bash bench/run.sh $(BUILD)

# sbatch vs ebb submit against a private Slurm (root, needs ../shared).
bench-slurm: build
	bash bench/slurm.sh $(BUILD)

# issue 10's crash loop: 100 SIGKILLs under load, then the invariants
# (as root, about 4 minutes; docs/benchmarks.md).
stress: build
	bash bench/crashloop.sh $(BUILD)

# libFuzzer harnesses (clang), FUZZ_TIME seconds each: docs/fuzzing.md.
fuzz:
	sh .ci/deps clang libclang-rt-14-dev
	CC=clang cmake -S . -B $(FUZZBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DEBB_FUZZ=ON -DEBB_WERROR=ON
	cmake --build $(FUZZBUILD) -j$(JOBS) --target fuzz

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD)
