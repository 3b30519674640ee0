#!/usr/bin/env bash
# The GPU checks of gpuad in one go, for a machine with an NVIDIA GPU where CuPy, numba-cuda,
# pytest and matplotlib are installed already: nothing is installed, nothing is downloaded.
#
#   benchmarks/gpu/run_all.sh OUTDIR            run every step, everything written to OUTDIR
#   benchmarks/gpu/run_all.sh --dry-run OUTDIR  check this script parses (bash -n, shellcheck
#                                               where installed), print the steps, run nothing
#                                               (GPUAD_RUN_ALL_DRY_RUN=1 does the same)
#
# Steps (the list is made in one place, `plan`, for both modes; OUTDIR/plan.tsv keeps it):
#   environment   nvidia-smi, versions, CUDA runtime and driver, the device, gpuad's commit
#   cupy-api      CuPy's public names listed from the CuPy installed there (cupy_api.txt):
#                 tests/test_cupy_api.py checks gpuad's calls against them, and cupy_api.diff
#                 shows how they differ from tests/data/cupy_api.txt
#   gpu-tests     pytest -m gpu on the test files that have gpu tests (GPUAD_REQUIRE_GPU=1:
#                 no device means an error, not a run of skips); OUTDIR/pytest-gpu.xml
#   bench-<name>  every benchmarks/gpu/<name>.py not starting with "_", as
#                 `<launcher> benchmarks/gpu/<name>.py --quick --out OUTDIR/<name>`
# Each step runs under `timeout` (its own limit, cut to what is left of the total budget,
# GPUAD_RUN_ALL_BUDGET_S, default 480 s); a step that fails or times out is reported and the
# next one runs. OUTDIR/summary.txt (and .json) give each step's status and seconds; each
# step's output is OUTDIR/<step>.log. Exit status: 0 when every step passed, else 1.
#
# It runs from anywhere (paths are relative to this file) on the source tree it sits in
# (PYTHONPATH), with $PYTHON (default python3).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"
BUDGET_S="${GPUAD_RUN_ALL_BUDGET_S:-480}"
MIN_STEP_S="${GPUAD_RUN_ALL_MIN_STEP_S:-10}"  # a step is not started with less than this left

# Per-benchmark settings. Every benchmarks/gpu/<name>.py (not starting with "_") runs as
#   <launcher> benchmarks/gpu/<name>.py --quick --out OUTDIR/<name>
# so a new benchmark needs an entry only where the defaults do not suit it. The multi-rank
# benchmark (benchmarks/gpu/distributed.py) starts mpiexec itself, so it needs no launcher here.
declare -A LIMIT_S=([fusion]=120 [bptt]=150 [distributed]=150)
declare -A LAUNCHER=()
DEFAULT_LIMIT_S=90
FIRST=(fusion bptt)  # run first, in this order; the others follow alphabetically

usage() {
    echo "usage: $0 [--dry-run] OUTDIR" >&2
    exit 2
}

DRY_RUN="${GPUAD_RUN_ALL_DRY_RUN:-0}"
OUT=""
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
        -*) usage ;;
        *) [ -z "$OUT" ] || usage; OUT="$arg" ;;
    esac
done
[ -n "$OUT" ] || usage
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac

q() { printf '%q' "$1"; }

benchmarks() {
    local name path
    local -A seen=()
    for name in "${FIRST[@]}"; do
        if [ -f "$HERE/$name.py" ]; then
            seen[$name]=1
            echo "$name"
        fi
    done
    for path in "$HERE"/*.py; do
        name="$(basename "$path" .py)"
        case "$name" in _*) continue ;; esac
        [ -n "${seen[$name]:-}" ] || echo "$name"
    done
}

gpu_test_files() {
    (cd "$ROOT" && grep -rlE 'mark\.gpu\b' tests --include='test_*.py' | sort)
}

# One line per step: name, time limit (s), command (run by bash -c in $ROOT).
plan() {
    local name files list
    printf 'environment\t60\t%s\n' "$(q "$PY") $(q "$HERE/_environment.py") --out $(q "$OUT")"
    list="$(q "$OUT/cupy_api.txt")"
    printf 'cupy-api\t60\t%s\n' "$(q "$PY") tests/cupy_api.py --write --out $list \
&& { diff <(grep -v '^#' tests/data/cupy_api.txt) <(grep -v '^#' $list) > $(q "$OUT/cupy_api.diff"); \
GPUAD_CUPY_API_LIST=$list $(q "$PY") -m pytest -o addopts= -q -p no:cacheprovider tests/test_cupy_api.py; }"
    files="$(gpu_test_files | tr '\n' ' ')"
    printf 'gpu-tests\t240\t%s\n' "GPUAD_REQUIRE_GPU=1 $(q "$PY") -m pytest -m gpu -o addopts= \
-ra -v -p no:cacheprovider --continue-on-collection-errors \
--junitxml=$(q "$OUT/pytest-gpu.xml") ${files% }"
    while read -r name; do
        printf 'bench-%s\t%s\t%s\n' "$name" "${LIMIT_S[$name]:-$DEFAULT_LIMIT_S}" \
            "${LAUNCHER[$name]:-$(q "$PY")} $(q "$HERE/$name.py") --quick --out $(q "$OUT/$name")"
    done < <(benchmarks)
}

if [ "$DRY_RUN" = 1 ]; then
    bash -n "$0" || exit 1
    if command -v shellcheck > /dev/null; then
        shellcheck "$0" || exit 1
    fi
    echo "# dry run: the steps $0 would run (name, limit in s, command), budget ${BUDGET_S} s"
    plan
    exit 0
fi

mkdir -p "$OUT" || exit 1
cd "$ROOT" || exit 1
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
# compiled kernels go to a scratch folder, not to OUTDIR or a home that may be read-only
scratch="$(mktemp -d "${TMPDIR:-/tmp}/gpuad-run-all.XXXXXX")"
export GPUAD_CACHE_DIR="$scratch/gpuad-kernels" CUPY_CACHE_DIR="$scratch/cupy-kernels"
unset NUMBA_ENABLE_CUDASIM GPUAD_BACKEND

plan > "$OUT/plan.tsv"
start=$(date +%s)
results=()
failed=0
while IFS=$'\t' read -r name limit cmd; do
    left=$((BUDGET_S - ($(date +%s) - start)))
    if [ "$left" -lt "$MIN_STEP_S" ]; then
        results+=("$name	SKIPPED (budget spent)	0	-")
        failed=1
        continue
    fi
    [ "$limit" -le "$left" ] || limit=$left
    echo "== $name (limit ${limit} s): $cmd"
    t0=$(date +%s)
    timeout --kill-after=10 "$limit" bash -c "$cmd" > "$OUT/$name.log" 2>&1 < /dev/null
    rc=$?
    seconds=$(($(date +%s) - t0))
    case "$rc" in
        0) status="ok" ;;
        124|137) status="TIMEOUT after ${limit} s"; failed=1 ;;
        *) status="FAILED (exit $rc)"; failed=1 ;;
    esac
    if [ "$name" = gpu-tests ] && [ -f "$OUT/pytest-gpu.xml" ]; then
        counts="$(grep -o '<testsuite [^>]*>' "$OUT/pytest-gpu.xml" | head -1 \
                  | grep -oE '(tests|failures|errors|skipped)="[0-9]+"' | tr -d '"' | tr '\n' ' ')"
        status="$status; ${counts% }"
    fi
    echo "   $status, ${seconds} s"
    results+=("$name	$status	$seconds	$name.log")
done < "$OUT/plan.tsv"
rm -rf "$scratch"

total=$(($(date +%s) - start))
{
    echo "gpuad GPU run, $(date -u +%Y-%m-%dT%H:%M:%SZ): ${total} s of a ${BUDGET_S} s budget"
    printf '%-22s %-56s %8s  %s\n' step status seconds log
    for row in "${results[@]}"; do
        IFS=$'\t' read -r name status seconds log <<< "$row"
        printf '%-22s %-56s %8s  %s\n' "$name" "$status" "$seconds" "$log"
    done
} > "$OUT/summary.txt"
json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }
{
    printf '{"budget_s": %s, "total_s": %s, "steps": [' "$BUDGET_S" "$total"
    sep=""
    for row in "${results[@]}"; do
        IFS=$'\t' read -r name status seconds log <<< "$row"
        printf '%s\n {"step": "%s", "status": "%s", "seconds": %s, "log": "%s"}' "$sep" \
            "$(json_escape "$name")" "$(json_escape "$status")" "$seconds" "$(json_escape "$log")"
        sep=","
    done
    printf '\n]}\n'
} > "$OUT/summary.json"
cat "$OUT/summary.txt"
exit "$failed"
