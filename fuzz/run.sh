#!/usr/bin/env bash
# Runs the fuzz targets that `make fuzz-build` built (docs/FUZZING.md), each for a bounded time
# from its corpus in fuzz/corpus/<name>/. New inputs that libFuzzer finds go into a scratch
# corpus, never into the repository's; --merge folds a scratch corpus back in by hand.
# A target fails on a crash, a leak, a sanitizer report, a hang (-timeout) or an allocation
# larger than -malloc_limit_mb; the input that did it is kept under the scratch dir's artifacts/.
#
# Usage: fuzz/run.sh [--seconds N] [--build DIR] [--scratch DIR] [NAME...]
#        fuzz/run.sh --merge [--build DIR] [--scratch DIR] NAME...
set -u
cd "$(dirname "$0")/.."
seconds=60 build=build-fuzz scratch="" merge=0
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --scratch) scratch=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    -*) echo "usage: $0 [--seconds N] [--build DIR] [--scratch DIR] [--merge] [NAME...]" >&2; exit 2 ;;
    *) break ;;
  esac
done
scratch=${scratch:-$build/corpus}
names=("$@")
if ((${#names[@]} == 0)); then
  for c in fuzz/*_fuzz.cc; do names+=("$(basename "$c" _fuzz.cc)"); done
fi
# -rss_limit_mb bounds the whole process; -malloc_limit_mb one allocation: no parser may take
# more than that at once whatever it reads.
limits=(-timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256)
pass=0 fail=0
for name in "${names[@]}"; do
  bin=$build/fuzz/${name}_fuzz
  corpus=fuzz/corpus/$name
  if [[ ! -x $bin ]]; then
    fail=$((fail + 1)); echo "FAIL fuzz $name: no $bin (make fuzz-build)"; continue
  fi
  mkdir -p "$scratch/$name" "$scratch/artifacts" "$corpus"
  if ((merge)); then
    # Keeps only the scratch inputs that reach code the repository's corpus does not.
    "$bin" -merge=1 "${limits[@]}" "$corpus" "$scratch/$name" 2>&1 | tail -n 2
    continue
  fi
  dict=()
  [[ -f fuzz/$name.dict ]] && dict=(-dict="fuzz/$name.dict")
  log=$scratch/$name.log
  start=$(date +%s)
  # The scratch dir comes first: libFuzzer writes what it finds into its first corpus dir.
  timeout --kill-after=10 $((seconds + 120)) "$bin" -max_total_time="$seconds" "${limits[@]}" \
    "${dict[@]}" -artifact_prefix="$scratch/artifacts/$name-" -print_final_stats=1 \
    "$scratch/$name" "$corpus" >"$log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  if ((rc == 0)); then
    pass=$((pass + 1)); echo "PASS fuzz $name (${secs}s, ${runs:-?} runs)"
  else
    fail=$((fail + 1)); echo "FAIL fuzz $name (rc=$rc, ${secs}s): log $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: property|.*runtime error|artifact_prefix|Test unit)' \
      "$log" | head -n 12 | sed 's/^/    | /'
  fi
done
((merge)) && exit 0
echo "fuzz: $pass passed, $fail failed"
((fail == 0))
