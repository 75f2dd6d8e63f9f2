# ttyaudit: see README.md. Everything builds with CMake into $(BUILD); binaries land in $(BUILD)/bin.
BUILD ?= build
SANITIZE ?= OFF
JOBS ?= $(shell nproc)
# Read at install time: `make install PREFIX=/usr DESTDIR=/tmp/root` after any build.
PREFIX ?= /usr/local
DESTDIR ?=
# The fuzz targets' build (clang, libFuzzer, ASan, UBSan) and how long each runs: `make fuzz`
# FUZZ_SECONDS each, `make test` FUZZ_TEST_SECONDS each (docs/FUZZING.md).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 4

.PHONY: all deps test check unit integration demo bench install uninstall clean format fuzz \
	fuzz-build

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DTTYAUDIT_SANITIZE=$(SANITIZE)

deps:
	bash scripts/deps.sh

unit: all
	$(BUILD)/bin/ttyaudit_tests

integration: all
	BUILD=$(BUILD) bash tests/run.sh $(TESTS)

# The layer order of docs/ARCHITECTURE.md and the formatting rules (.clang-format), before any test.
check:
	python3 tests/check_layers.py
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')
	@echo "format: every source file as .clang-format says"

# The checks, the unit tests, each fuzz target briefly, then the integration tests, with the
# total of all at the end.
test: all check fuzz-build
	BUILD=$(BUILD) FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) \
	  bash tests/run.sh --unit --fuzz $(TESTS)

# Only the fuzz targets and the libraries they link, instrumented (fuzz/CMakeLists.txt).
fuzz-build: $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) --target ttyaudit_fuzzers -j $(JOBS)

$(FUZZ_BUILD)/CMakeCache.txt:
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DTTYAUDIT_FUZZ=ON -DTTYAUDIT_EBPF=OFF

# Every fuzz target for FUZZ_SECONDS; what they find stays in $(FUZZ_BUILD)/corpus.
fuzz: fuzz-build
	bash fuzz/run.sh --seconds $(FUZZ_SECONDS) --build $(FUZZ_BUILD) $(TARGETS)

demo: all
	BUILD=$(BUILD) bash scripts/demo.sh

bench: all
	BUILD=$(BUILD) bash bench/run.sh

# Stripped binaries in PREFIX/bin, the systemd units and examples following PREFIX, and
# /etc/ttyaudit/config.json when there is none (cmake/install_data.cmake).
install: all
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)" --strip

# Removes what install installs with the same PREFIX and DESTDIR; keeps the config and the spool.
uninstall:
	DESTDIR="$(DESTDIR)" bash scripts/uninstall.sh "$(BUILD)" "$(PREFIX)"

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
