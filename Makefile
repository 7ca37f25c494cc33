# Two commands do all the set-up on a fresh Debian 12 machine: `make run` and `make test`.
BUILD ?= build

.PHONY: all deps build run test screenshots bench clean

all: build

deps:
	@build-aux/install-deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

run: build
	build-aux/run.sh $(BUILD)

test: build
	build-aux/run-tests.sh $(BUILD)

screenshots: build
	build-aux/screenshots.sh $(BUILD)

bench: build
	bench/run-bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
