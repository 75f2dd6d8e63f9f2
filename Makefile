# ttyaudit: see README.md. Everything builds with CMake into $(BUILD); binaries land in $(BUILD)/bin.
BUILD ?= build
SANITIZE ?= OFF
JOBS ?= $(shell nproc)
# Read at install time: `make install PREFIX=/usr DESTDIR=/tmp/root` after any build.
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps test check unit integration demo bench install uninstall clean format

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

# The checks, the unit tests, then the integration tests, with the total of both at the end.
test: all check
	BUILD=$(BUILD) bash tests/run.sh --unit $(TESTS)

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
	rm -rf $(BUILD)
