"""benchmarks/gpu/ on the CPU: run_all.sh's dry run and its real run with a stand-in Python
(same steps, a failed step does not stop the rest, the budget cuts a hung step), and the options
the GPU benchmarks take from it."""
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPU = os.path.join(ROOT, "benchmarks", "gpu")
SCRIPT = os.path.join(GPU, "run_all.sh")


def _plan(out, env=None, args=("--dry-run",), cwd=None):
    proc = subprocess.run(["bash", SCRIPT, *args, str(out)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})}, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines() if not line.startswith("#")]


def _benchmarks():
    return sorted(name[:-3] for name in os.listdir(GPU)
                  if name.endswith(".py") and not name.startswith("_"))


def _gpu_test_files():
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "tests")):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path) as f:
                    if re.search(r"mark\.gpu\b", f.read()):
                        found.append(os.path.relpath(path, ROOT))
    return sorted(found)


def test_dry_run_plans_every_step_and_runs_nothing(tmp_path):
    out = tmp_path / "out"
    steps = _plan(out, cwd=tmp_path)  # from another folder: paths come from the script's own
    names = [s[0] for s in steps]
    benches = [f"bench-{n}" for n in ["fusion", "bptt"] + [b for b in _benchmarks()
                                                           if b not in ("fusion", "bptt")]]
    assert names == ["environment", "cupy-api", "gpu-tests"] + benches
    limits = {name: int(limit) for name, limit, _ in steps}
    assert all(limits.values())
    commands = {name: cmd for name, _, cmd in steps}
    for name in _benchmarks():
        assert commands[f"bench-{name}"].endswith(
            f"{os.path.join(GPU, name + '.py')} --quick --out {out / name}")
    tests = commands["gpu-tests"]
    assert tests.startswith("GPUAD_REQUIRE_GPU=1 ") and " -m pytest -m gpu " in tests
    assert "-o addopts=" in tests  # pyproject's --benchmark-disable needs pytest-benchmark
    assert shlex.split(tests)[-len(_gpu_test_files()):] == _gpu_test_files()
    assert not out.exists()


def test_dry_run_by_environment_variable_plans_the_same(tmp_path):
    assert _plan(tmp_path / "o", env={"GPUAD_RUN_ALL_DRY_RUN": "1"}, args=()) == \
        _plan(tmp_path / "o")


def test_the_script_parses():
    subprocess.run(["bash", "-n", SCRIPT], check=True, timeout=30)


STUB = """#!/usr/bin/env bash
# stands in for Python: records its arguments; fusion.py fails, _environment.py may hang
echo "$*" >> "$STUB_LOG"
case "$*" in
    *fusion.py*) exit 3 ;;
    *_environment.py*) sleep "${STUB_SLEEP:-0}" ;;
    *"--write --out "*) cp tests/data/cupy_api.txt "${@: -1}" ;;
esac
exit 0
"""


def _stub(tmp_path):
    stub = tmp_path / "python-stub"
    stub.write_text(STUB)
    stub.chmod(0o755)
    return stub


def _run(tmp_path, **env):
    stub, out = _stub(tmp_path), tmp_path / "out"
    env = {"PYTHON": str(stub), "STUB_LOG": str(tmp_path / "calls.log"), **env}
    proc = subprocess.run(["bash", SCRIPT, str(out)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})
    return proc, out, stub


def test_real_run_runs_the_planned_steps_and_goes_on_after_a_failure(tmp_path):
    proc, out, stub = _run(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one step failed
    planned = [line.split("\t") for line in (out / "plan.tsv").read_text().splitlines()]
    assert planned == _plan(out, env={"PYTHON": str(stub)})  # one list for both modes
    expected = []  # each call of the stand-in, as the plan spells it
    for _, _, cmd in planned:
        for part in re.split(r" && |; ", cmd):
            tokens = [t for t in shlex.split(part)
                      if not re.match(r"^[A-Z_]+=", t) and t not in ("{", "}")]
            if tokens and tokens[0] == str(stub):
                expected.append(" ".join(tokens[1:]))
    assert (tmp_path / "calls.log").read_text().splitlines() == expected
    summary = json.loads((out / "summary.json").read_text())
    status = {s["step"]: s["status"] for s in summary["steps"]}
    assert status.pop("bench-fusion") == "FAILED (exit 3)"
    assert set(status.values()) == {"ok"}, status
    assert [s["step"] for s in summary["steps"]] == [p[0] for p in planned]
    text = (out / "summary.txt").read_text()
    assert "FAILED (exit 3)" in text and all((out / f"{p[0]}.log").exists() for p in planned)


def test_a_hung_step_is_cut_at_the_budget_and_the_rest_reported_skipped(tmp_path):
    proc, out, _ = _run(tmp_path, STUB_SLEEP="60", GPUAD_RUN_ALL_BUDGET_S="2",
                        GPUAD_RUN_ALL_MIN_STEP_S="1")
    assert proc.returncode == 1
    steps = json.loads((out / "summary.json").read_text())["steps"]
    assert steps[0]["step"] == "environment"
    assert steps[0]["status"] == "TIMEOUT after 2 s" and steps[0]["seconds"] < 10
    assert {s["status"] for s in steps[1:]} == {"SKIPPED (budget spent)"}


# ---- the options run_all.sh passes to the benchmarks -------------------------------------------
@pytest.fixture
def load(monkeypatch):
    """Import a benchmarks/gpu script by path; sys.path and the benchmarks' top-level modules
    (bptt, fusion, timing) are put back afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)

    def load(name):
        spec = importlib.util.spec_from_file_location(f"gpu_{name}", os.path.join(GPU, name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    yield load
    for name in set(sys.modules) - before:
        if name in ("bptt", "fusion", "timing", "distributed") or name.startswith("gpu_"):
            del sys.modules[name]


def test_gpu_bptt_takes_quick_and_out(load, tmp_path):
    gpu_bptt = load("bptt.py")
    args = gpu_bptt.bptt.parse_args(gpu_bptt.bptt_argv(["--quick", "--out", str(tmp_path),
                                                        "--models", "rnn"]))
    assert (args.length, args.hidden, args.repeats, args.models) == (100, 64, 1, "rnn")
    assert args.json == str(tmp_path / "bptt.json") and args.plot == str(tmp_path / "bptt.png")
    assert args.no_peers
    rows = [{"model": m, "schedule": s, "memory_saved": saved, "vs_storeall": slower}
            for m, s, saved, slower in [("rnn", "StoreAll", 0.0, 1.0),
                                        ("lstm", "Budget(5%) -> Revolve(6)", 0.95, 1.6)]]
    gpu_bptt.bptt.plot(str(tmp_path / "bptt.png"), rows, args.length)
    assert (tmp_path / "bptt.png").stat().st_size > 0


def test_gpu_fusion_takes_quick_and_out(load, tmp_path):
    gpu_fusion = load("fusion.py")
    args = gpu_fusion.parse_args(["--quick", "--out", str(tmp_path)])
    assert (args.size, args.repeats, args.out) == (2**20, 5, str(tmp_path))
    assert gpu_fusion.parse_args([]).size == 10_000_000
    results = [{"chain": c, "what": w, "value_and_grad_seconds": t, "cupy_value_seconds": 0.01}
               for c in ("cheap", "transcendental")
               for w, t in (("gpuad fused", 0.02), ("gpuad unfused", 0.05))]
    gpu_fusion.plot(str(tmp_path / "fusion.png"), results, args, "a device")
    assert (tmp_path / "fusion.png").stat().st_size > 0


def test_environment_summary_without_a_gpu(load, tmp_path):
    env = load("_environment.py")
    env.main(["--out", str(tmp_path)])
    facts = json.loads((tmp_path / "environment.json").read_text())
    assert facts["versions"]["numpy"] and len(facts["gpuad"]["sha1_of_gpuad_py"]) == 40
    for key in ("nvidia_smi", "cupy", "numba_cuda", "gpuad_probe"):
        assert key in facts
    assert "versions:" in (tmp_path / "environment.txt").read_text()


def test_gpu_distributed_dry_run_lists_the_nccl_launches(load, capsys):
    """Its launches, without a device: every run on CuPy arrays, one rank and two, the
    sequence-parallel ones with --quick's microbatches."""
    gpu_distributed = load("distributed.py")
    assert gpu_distributed.main(["--quick", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["data_parallel"] * 2 + ["sequence"] * 3
    assert all("--backend cupy" in line and "--worker" in line for line in lines)
    assert [line.split()[3] for line in lines] == ["1", "2", "1", "2", "2"]  # mpiexec -n N
    assert lines[-1].endswith("--length 100 --microbatches 4")
    one = gpu_distributed.runs(gpu_distributed.parse_args(["--quick"]), 1)
    assert [(what, n) for what, n, *_ in one] == [("data_parallel", 1), ("sequence", 1)]
