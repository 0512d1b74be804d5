# Arca's two set-up commands: `make run` and `make test`. Both install the
# Debian packages Arca needs (scripts/install-deps.sh), then build with CMake.

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build run test bench bench-registry bench-verify bench-log bench-mirror clean fuzz

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the embedded default: build a bundle from a generated example
# model directory into the store under ./var/ and show its stats.
run: build
	@bash scripts/run-example.sh $(BUILD)/bin/arca

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	$(BUILD)/bin/arca-bench-format

# Push and pull on loopback against docker-registry + skopeo (installed by the
# script when missing); see bench/registry/RESULTS.md.
bench-registry: build
	bash bench/registry/run.sh $(BUILD)

# arca verify DIR on a generated 2 GiB pulled bundle; see bench/verify/RESULTS.md.
bench-verify: build
	$(BUILD)/bin/arca-bench-verify

# The transparency log: durable appends, proofs and a full audit at a million
# entries; see bench/log/RESULTS.md.
bench-log: build
	$(BUILD)/bin/arca-bench-log
	bash bench/log/audit.sh $(BUILD)

# Mirror sync (v1 cold, v2 after v1), export and import on loopback against
# an upstream registry; see bench/mirror/RESULTS.md.
bench-mirror: build
	bash bench/mirror/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
