# ttyaudit: see README.md. Everything builds with CMake into $(BUILD); binaries land in $(BUILD)/bin.
BUILD ?= build
SANITIZE ?= OFF
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: all deps test unit integration demo bench install clean format

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DTTYAUDIT_SANITIZE=$(SANITIZE) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

deps:
	bash scripts/deps.sh

unit: all
	$(BUILD)/bin/ttyaudit_tests

integration: all
	BUILD=$(BUILD) bash tests/run.sh $(TESTS)

# The unit tests, then the integration tests, with the total of both at the end.
test: all
	BUILD=$(BUILD) bash tests/run.sh --unit $(TESTS)

demo: all
	BUILD=$(BUILD) bash scripts/demo.sh

bench: all
	BUILD=$(BUILD) bash bench/run.sh

install: all
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
