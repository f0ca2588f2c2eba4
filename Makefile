# wspulse_client — the front door.
#
#   make demo    install what is missing, build, run the demo
#   make test    build with g++ C++17 and run every test; the meson build (g++ C++20), and the
#                build against single_include/wspulse_client.hpp (clang++ C++20, no TLS): unit
#                tests + the client smoke subset
#   make check   clang-format check + `make test` + ASan/UBSan + TSan + check-consumers
#                + examples-run + check-cross + short fuzz and micro-benchmark runs + a 1-minute
#                soak
#   make check-consumers   build tests/consumers/* (find_package, add_subdirectory, FetchContent,
#                meson wrap, pkg-config, single header) and run each against the test server
#   make examples-run   build the examples and run each against the bundled test server
#   make check-cross     arm64 + armhf cross builds; the contract scenarios under qemu-user
#   make bench   Release build, run every benchmark and micro-benchmark, json_codec vs Go
#   make footprint   stripped sizes (host, arm64, armhf; plain/TLS; -O2/-Os), RSS, threads
#   make fuzz    clang libFuzzer + ASan/UBSan: run each fuzz target FUZZ_SECONDS (60) seconds
#   make soak    clients under random faults for SOAK_MINUTES (10) minutes (bench/soak.cpp)
#   make fmt     clang-format -i the project's sources
#   make amalgamate   regenerate single_include/wspulse_client.hpp
#   make clean   remove build/
#
# Variables: JOBS (2), CTEST_JOBS (JOBS + 2), WERROR (ON), BUILD (build), CTEST_ARGS (e.g. -R unit),
# FUZZ_SECONDS (per target; make check runs CHECK_FUZZ_SECONDS, 10), SOAK_MINUTES (make check
# runs CHECK_SOAK_MINUTES, 1).
# Every CMake build lives in its own directory under build/ (Ninja).
# SPDX-License-Identifier: MIT

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.NOTPARALLEL:
.DEFAULT_GOAL := help

JOBS ?= 2
WERROR ?= ON
BUILD ?= build
CTEST_ARGS ?=
# ctest runs more tests at once than there are cores: the client suites mostly wait on sockets
# and timers (~10 % CPU), so they overlap the compile-fail checks and each other.
CTEST_JOBS ?= $(shell echo $$(( $(JOBS) + 2 )))
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 10
SOAK_MINUTES ?= 10
CHECK_SOAK_MINUTES ?= 1
TIMES := $(BUILD)/stage-times.txt

CMAKE_BASE := -G Ninja --log-level=NOTICE -DWSPULSE_CLIENT_WERROR=$(WERROR)
GCC := -DCMAKE_CXX_COMPILER=g++
CLANG := -DCMAKE_CXX_COMPILER=clang++
TLS := -DWSPULSE_CLIENT_ENABLE_TLS=ON
NO_TLS := -DWSPULSE_CLIENT_ENABLE_TLS=OFF
# client_tests_inline (the client suites with inline callbacks on a shared io_context): built
# and run by both sanitizer builds (ASan+UBSan: the lifetimes that mode changes, handlers and
# clients destroyed on the I/O thread; TSan: its threads), not by the others (~1 min each).
INLINE := -DWSPULSE_CLIENT_TEST_INLINE=ON
# Sanitizer builds run the full test suite, unoptimised, with line tables (CMakeLists.txt);
# examples and the compile-time checks (header self-containment, two-TU link, compile-fail)
# add nothing there and cost minutes.
SAN_BASE := -DWSPULSE_CLIENT_BUILD_EXAMPLES=OFF -DWSPULSE_CLIENT_COMPILE_CHECKS=OFF
# The builds that prove another compiler, standard, header layout or build system compile the
# unit tests and client_smoke (test_client.cpp, test_tls.cpp), not the whole client suite: the
# g++ C++17 and sanitizer builds run that. Each such build proves several things at once, so
# that every pair is covered once: g++ C++17 modular CMake TLS (the full suite, the examples,
# the compile checks), meson g++ C++20 TLS, single header clang++ C++20 without TLS (the
# tls_unavailable paths); check-consumers builds a program on the single header with g++.
SMOKE := -DWSPULSE_CLIENT_TEST_SMOKE_ONLY=ON

# The demo: DEMO_CMD runs from the repo root after DEMO_TARGETS are built in $(DEMO_DIR).
# DEMO_TARGETS defaults to the program DEMO_CMD starts, so switching the demo is one line.
DEMO_DIR := $(BUILD)/gcc-cxx17
DEMO_CMD ?= tools/demo.sh $(DEMO_DIR)
DEMO_TARGETS ?= wspulse-testserver wspulse-example-chat

# Sources `make fmt` formats and `make check` checks (single_include/ is generated: excluded).
FORMAT_DIRS := wspulse tests testserver examples bench fuzz
FORMAT_FILES = wspulse_client.hpp $(shell find $(wildcard $(FORMAT_DIRS)) -type f \
  \( -name '*.hpp' -o -name '*.cpp' \) | LC_ALL=C sort)

# The fuzz build: clang, fuzz targets only (fuzz/CMakeLists.txt adds libFuzzer + ASan/UBSan).
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CMAKE := $(CLANG) $(NO_TLS) -DCMAKE_BUILD_TYPE=Debug -DWSPULSE_CLIENT_BUILD_FUZZ=ON \
  -DWSPULSE_CLIENT_BUILD_TESTS=OFF -DWSPULSE_CLIENT_BUILD_EXAMPLES=OFF

# The soak build: Release, the soak program and the test server only; make check also builds
# and briefly runs the micro-benchmarks there (check-micro-bench).
SOAK_DIR := $(BUILD)/soak
SOAK_CMAKE := $(GCC) $(NO_TLS) -DCMAKE_BUILD_TYPE=Release -DWSPULSE_CLIENT_BUILD_BENCH=ON \
  -DWSPULSE_CLIENT_BUILD_TESTS=OFF -DWSPULSE_CLIENT_BUILD_EXAMPLES=OFF
soak_configure = cmake -S . -B $(SOAK_DIR) $(CMAKE_BASE) $(SOAK_CMAKE) >/dev/null
soak_build = $(soak_configure) && cmake --build $(SOAK_DIR) -j $(JOBS) --target wspulse-soak

# $(call banner,<title>)
banner = printf '\n==== %s ====\n' '$(1)'

# $(call timed,<stage name>,<shell commands>): run, then print and record the elapsed time.
# The commands run in a subshell: a failure anywhere in an `a && b` chain fails the stage.
define timed
	@$(call banner,$(1))
	@mkdir -p $(BUILD); t0=$$(date +%s); \
	if ( $(2) ); then rc=0; else rc=$$?; fi; \
	t=$$(( $$(date +%s) - t0 )); \
	if [ $$rc -ne 0 ]; then printf '==== %s: FAILED after %ss\n' '$(1)' "$$t"; exit $$rc; fi; \
	printf '==== %s: passed in %ss\n' '$(1)' "$$t"; \
	printf '%-48s %5ss\n' '$(1)' "$$t" >> $(TIMES)
endef

# $(call cmake_suite,<build dir>,<cmake args>,<ctest selection>): configure, build, run ctest
# (prints its summary). Selections by label (CMakeLists.txt): the g++ C++17 build runs every
# test, the extra runs included, once per CI; the sanitizers the whole client suite, not the
# extra runs; the smoke builds everything they built (unit tests, compile checks, client_smoke).
CTEST_ALL :=
CTEST_SANITIZED := -LE extra
CTEST_SMOKE :=
cmake_suite = cmake -S . -B $(1) $(CMAKE_BASE) $(2) && \
  cmake --build $(1) -j $(JOBS) && \
  (cd $(1) && ctest --output-on-failure -j $(CTEST_JOBS) $(3) $(CTEST_ARGS))

.PHONY: help setup demo test check bench fmt format-check amalgamate clean \
        test-gcc-cxx17 test-meson test-single-include \
        check-asan-ubsan check-tsan check-fuzz check-begin \
        check-summary check-consumers examples-run check-cross fuzz footprint soak check-soak \
        check-micro-bench

help:
	@sed -n '3,23p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@tools/setup.sh

demo: setup
	@$(call banner,demo: build $(DEMO_TARGETS) in $(DEMO_DIR))
	@cmake -S . -B $(DEMO_DIR) $(CMAKE_BASE) $(GCC) $(TLS)
	@cmake --build $(DEMO_DIR) -j $(JOBS) --target $(DEMO_TARGETS)
	@$(call banner,demo: $(DEMO_CMD))
	@$(DEMO_CMD)

# ---- make test ------------------------------------------------------------------------------
test: setup test-gcc-cxx17 test-meson test-single-include
	@$(call banner,make test: all stages passed)

test-gcc-cxx17:
	$(call timed,g++ C++17 ($(BUILD)/gcc-cxx17),\
	  $(call cmake_suite,$(BUILD)/gcc-cxx17,$(GCC) $(TLS),$(CTEST_ALL)))

# The meson build proves meson and g++ C++20 (websocketpp's headers fixed for it by
# tools/patch_websocketpp.py): unit tests and client_smoke; the examples build under CMake.
MESON_ARGS = -Dwerror=$(if $(filter ON,$(WERROR)),true,false) -Dtls=enabled -Dsmoke_only=true \
  -Dexamples=false -Dcpp_std=c++20 -Dunity=on -Dunity_size=5
test-meson:
	$(call timed,meson g++ C++20 ($(BUILD)/meson),\
	  if [ -f $(BUILD)/meson/build.ninja ]; then \
	    meson setup --reconfigure $(BUILD)/meson $(MESON_ARGS) >/dev/null; \
	  else \
	    meson setup $(BUILD)/meson $(MESON_ARGS) >/dev/null; \
	  fi && \
	  meson compile -C $(BUILD)/meson -j $(JOBS) && \
	  meson test -C $(BUILD)/meson --print-errorlogs --num-processes $(CTEST_JOBS))

test-single-include:
	$(call timed,single header clang++ C++20 no TLS ($(BUILD)/single-include),\
	  $(call cmake_suite,$(BUILD)/single-include,$(CLANG) $(NO_TLS) -DCMAKE_CXX_STANDARD=20 -DWSPULSE_CLIENT_TEST_SINGLE_INCLUDE=ON -DWSPULSE_CLIENT_BUILD_EXAMPLES=OFF $(SMOKE),$(CTEST_SMOKE)))

# ---- make check -----------------------------------------------------------------------------
check: check-begin format-check test check-asan-ubsan check-tsan check-fuzz check-consumers \
       examples-run check-cross check-micro-bench check-soak \
       check-summary

check-begin:
	@mkdir -p $(BUILD); rm -f $(TIMES); date +%s > $(BUILD)/.check-start

format-check:
	$(call timed,clang-format check,\
	  bad=0; for f in $(FORMAT_FILES); do \
	    if ! clang-format --style=file "$$f" | diff -u --label "$$f" --label "$$f (clang-format)" "$$f" -; then bad=1; fi; \
	  done; \
	  if [ $$bad -ne 0 ]; then echo "clang-format: the files above differ: run 'make fmt'"; exit 1; fi; \
	  echo "clang-format: $(words $(FORMAT_FILES)) files clean")

check-asan-ubsan:
	$(call timed,clang++ ASan+UBSan ($(BUILD)/asan-ubsan),\
	  $(call cmake_suite,$(BUILD)/asan-ubsan,$(CLANG) $(TLS) $(SAN_BASE) -DWSPULSE_CLIENT_SANITIZE=address$(,)undefined $(INLINE),$(CTEST_SANITIZED)))

check-tsan:
	$(call timed,clang++ TSan ($(BUILD)/tsan),\
	  $(call cmake_suite,$(BUILD)/tsan,$(CLANG) $(TLS) $(SAN_BASE) -DWSPULSE_CLIENT_SANITIZE=thread $(INLINE),$(CTEST_SANITIZED)))

# Every integration path a consumer project can use, each one TU against the bundled server
# (tests/consumers/run.sh). Reuses the g++ C++17 build for wspulse-testserver.
check-consumers:
	$(call timed,consumer projects ($(BUILD)/consumers),\
	  cmake -S . -B $(BUILD)/gcc-cxx17 $(CMAKE_BASE) $(GCC) $(TLS) >/dev/null && \
	  cmake --build $(BUILD)/gcc-cxx17 -j $(JOBS) --target wspulse-testserver >/dev/null && \
	  JOBS=$(JOBS) tests/consumers/run.sh $(BUILD)/gcc-cxx17/wspulse-testserver $(BUILD)/consumers)

# Every example against the bundled server (tools/examples_run.sh), from the g++ C++17 build.
examples-run:
	$(call timed,examples against the test server ($(BUILD)/gcc-cxx17),\
	  cmake -S . -B $(BUILD)/gcc-cxx17 $(CMAKE_BASE) $(GCC) $(TLS) >/dev/null && \
	  cmake --build $(BUILD)/gcc-cxx17 -j $(JOBS) --target wspulse_client_examples >/dev/null && \
	  tools/examples_run.sh $(BUILD)/gcc-cxx17)

# arm64 and armhf (cmake/toolchains/, meson/cross/): the minimal client, the device example and
# the contract scenarios (tests/contract/: dial, echo order, push, binary codec, bad frame, kick
# and reset with reconnect, stop_on_close_code, heartbeat, refused upgrade and port), built -Os
# and run under qemu-user against the host's test server; prints stripped sizes and the
# contract's pass counts per arch. Installs the cross compilers and qemu-user on first use
# (tools/setup.sh --cross).
# Bounded as a whole (CROSS_TIMEOUT s; it takes ~2 min) as well as per guest run.
CROSS_TIMEOUT ?= 900
check-cross:
	$(call timed,cross arm64 + armhf under qemu ($(BUILD)/cross),\
	  tools/setup.sh --cross && \
	  cmake -S . -B $(BUILD)/gcc-cxx17 $(CMAKE_BASE) $(GCC) $(TLS) >/dev/null && \
	  cmake --build $(BUILD)/gcc-cxx17 -j $(JOBS) --target wspulse-testserver >/dev/null && \
	  timeout -k 30 $(CROSS_TIMEOUT) tools/check_cross.sh $(BUILD)/gcc-cxx17/wspulse-testserver $(BUILD)/cross)

# A short bounded run of every fuzz target, JOBS at a time (the long runs: make fuzz).
check-fuzz:
	$(call timed,fuzz $(CHECK_FUZZ_SECONDS)s per target ($(FUZZ_DIR)),\
	  cmake -S . -B $(FUZZ_DIR) $(CMAKE_BASE) $(FUZZ_CMAKE) && \
	  cmake --build $(FUZZ_DIR) -j $(JOBS) && \
	  FUZZ_JOBS=$(JOBS) tools/fuzz.sh $(FUZZ_DIR) $(CHECK_FUZZ_SECONDS))

# Every benchmark program compiles (they are run by make bench, not here: their figures need a
# quiet machine), and the micro-benchmarks (bench/micro/) run each case for a few ms, output kept
# in $(SOAK_DIR)/wspulse-micro-*-smoke.txt. Installs Google Benchmark on first use.
check-micro-bench:
	$(call timed,benchmarks build + micro-benchmarks smoke ($(SOAK_DIR)),\
	  tools/setup.sh --bench && $(soak_configure) && \
	  cmake --build $(SOAK_DIR) -j $(JOBS) --target bench_programs smoke_micro_benches)

# The soak in short: random faults for CHECK_SOAK_MINUTES with traffic both ways; fails on a lost
# frame away from a drop, RSS growth over 1 MiB after the warm-up, descriptor or thread growth.
check-soak:
	$(call timed,soak $(CHECK_SOAK_MINUTES) min ($(SOAK_DIR)),\
	  $(soak_build) && $(SOAK_DIR)/wspulse-soak --minutes $(CHECK_SOAK_MINUTES))

check-summary:
	@$(call banner,make check: elapsed per stage)
	@cat $(TIMES)
	@printf '%-48s %5ss\n' 'total' "$$(( $$(date +%s) - $$(cat $(BUILD)/.check-start) ))"

# ---- the rest -------------------------------------------------------------------------------
bench: setup
	@tools/setup.sh --bench
	@$(call banner,bench: Release build ($(BUILD)/bench))
	@cmake -S . -B $(BUILD)/bench $(CMAKE_BASE) $(GCC) $(NO_TLS) -DCMAKE_BUILD_TYPE=Release \
	  -DWSPULSE_CLIENT_BUILD_BENCH=ON -DWSPULSE_CLIENT_BUILD_TESTS=OFF \
	  -DWSPULSE_CLIENT_BUILD_EXAMPLES=OFF
	@cmake --build $(BUILD)/bench -j $(JOBS) --target run_benches
	@$(call banner,bench: json_codec vs Go encoding/json (tools/json_vs_go.py))
	@if command -v go >/dev/null; then tools/json_vs_go.py $(BUILD)/bench; \
	else echo "skipped: no go on PATH (Debian: golang-go)"; fi

# The README's footprint tables (tools/footprint.sh; not part of make check: ~24 compiles).
footprint: setup
	@tools/setup.sh --cross --cross-tls
	@cmake -S . -B $(BUILD)/gcc-cxx17 $(CMAKE_BASE) $(GCC) $(TLS) >/dev/null
	@cmake --build $(BUILD)/gcc-cxx17 -j $(JOBS) --target wspulse-testserver >/dev/null
	@JOBS=$(JOBS) tools/footprint.sh $(BUILD)/gcc-cxx17/wspulse-testserver $(BUILD)/footprint

fuzz: setup
	@$(call banner,fuzz: build ($(FUZZ_DIR)))
	@cmake -S . -B $(FUZZ_DIR) $(CMAKE_BASE) $(FUZZ_CMAKE)
	@cmake --build $(FUZZ_DIR) -j $(JOBS)
	@$(call banner,fuzz: $(FUZZ_SECONDS)s per target)
	@tools/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

soak: setup
	@$(call banner,soak: build ($(SOAK_DIR)))
	@$(soak_build)
	@$(call banner,soak: $(SOAK_MINUTES) min)
	@$(SOAK_DIR)/wspulse-soak --minutes $(SOAK_MINUTES)

fmt:
	clang-format --style=file -i $(FORMAT_FILES)

amalgamate:
	@tools/amalgamate

clean:
	rm -rf $(BUILD)

, := ,
