#!/usr/bin/env bash
# wspulse_client — run the libFuzzer targets, FUZZ_JOBS (1) at a time, each for SECONDS.
#
# Usage: tools/fuzz.sh BUILD_DIR SECONDS [TARGET...]   (targets: codec url stream; default all)
#
# BUILD_DIR is a CMake build with -DWSPULSE_CLIENT_BUILD_FUZZ=ON (make fuzz makes it). Each
# target starts from its committed seeds (fuzz/corpus/<target>/, read only) plus its working
# corpus (BUILD_DIR/fuzz-work/<target>/, kept between runs); crashes, leaks, timeouts and
# property violations are written to BUILD_DIR/fuzz-artifacts/. Prints one line per target
# (executions, seconds, executions/s, corpus growth) and fails when any target found something.
# SPDX-License-Identifier: MIT
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
build=$1
seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(codec url stream)
root=$(cd "$(dirname "$0")/.." && pwd)

# A leak or a UBSan report is a finding like a crash; symbolized stacks in the log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# fuzz_one <target>: runs it, writes its summary line and exit status (non-zero: a finding) to
# $build/fuzz-<target>.summary and .rc. FUZZ_JOBS (1) targets run at once, each on its own core for the whole SECONDS.
fuzz_one() {
  local t=$1 bin seeds work artifacts log rc execs rate added secs line
  bin="$build/fuzz/wspulse-fuzz-$t"
  seeds="$root/fuzz/corpus/$t"
  work="$build/fuzz-work/$t"
  artifacts="$build/fuzz-artifacts"
  log="$build/fuzz-$t.log"
  mkdir -p "$work" "$artifacts"
  echo "fuzz: $t for ${seconds}s: $bin -max_total_time=$seconds $work $seeds"
  rc=0
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "$work" "$seeds" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  line=$(printf '%-7s %10s executions %5ss %8s exec/s %6s new units' "$t" "${execs:-?}" \
    "${secs:-?}" "${rate:-?}" "${added:-?}")
  if [ $rc -ne 0 ]; then
    line+="  FINDING (exit $rc): see $log and $artifacts/"
    grep -a -E 'PROPERTY VIOLATED|detail:|ERROR: |SUMMARY: |Test unit written' "$log" | head -20 >&2 || true
  else
    line+="  no findings"
  fi
  echo "$line" >"$build/fuzz-$t.summary"
  echo "$rc" >"$build/fuzz-$t.rc"
}

failed=()
for t in "${targets[@]}"; do
  [ -x "$build/fuzz/wspulse-fuzz-$t" ] ||
    { echo "fuzz: $build/fuzz/wspulse-fuzz-$t is missing (build with -DWSPULSE_CLIENT_BUILD_FUZZ=ON)" >&2; exit 2; }
done
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-1}" ]; do wait -n || true; done
  rm -f "$build/fuzz-$t.rc"
  fuzz_one "$t" &
done
wait
for t in "${targets[@]}"; do
  cat "$build/fuzz-$t.summary"
  [ "$(cat "$build/fuzz-$t.rc" 2>/dev/null)" = 0 ] || failed+=("$t")
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
