# Two commands do all the set-up on a fresh Debian 12 machine: `make run` and `make test`.
BUILD ?= build

SANITIZE_BUILD ?= build-sanitize
# AddressSanitizer and UndefinedBehaviorSanitizer; the GUI needs WebKit, which is not built with them.
SANITIZE_OPTIONS = -Db_sanitize=address,undefined -Db_lundef=false -Dhtml_preview=disabled
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps build run test test-sanitize fuzz screenshots bench clean

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

# The engine, the CLI and their suites (and the fuzz corpora's replay) under ASan, UBSan and LSan.
$(SANITIZE_BUILD)/build.ninja: | deps
	meson setup $(SANITIZE_BUILD) $(SANITIZE_OPTIONS)

test-sanitize: deps $(SANITIZE_BUILD)/build.ninja
	meson compile -C $(SANITIZE_BUILD)
	MAILROOM_SETUP_OPTIONS="$(SANITIZE_OPTIONS)" build-aux/run-tests.sh $(SANITIZE_BUILD) sanitize

# libFuzzer (clang): each target runs for FUZZ_SECONDS; what it finds is kept in tests/fuzz/crashes/.
FUZZ_TARGETS = $(foreach t,recipients mustache settings ews oauth smtp autoconfig html spf dns,tests/fuzz/fuzz-$(t))

$(FUZZ_BUILD)/build.ninja: | deps
	build-aux/install-deps.sh build-aux/packages-fuzz.txt
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dwerror=false -Dhtml_preview=disabled

fuzz: deps $(FUZZ_BUILD)/build.ninja
	meson compile -C $(FUZZ_BUILD) $(FUZZ_TARGETS)
	tests/fuzz/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

screenshots: build
	build-aux/screenshots.sh $(BUILD)

bench: build
	bench/run-bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
