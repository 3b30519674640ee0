"""`python -m gpuad --quick` end to end, and its option errors."""
import json
import os
import subprocess
import sys

import pytest

from gpuad.experiment.options import OptionError, parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    env = dict(os.environ, GPUAD_BACKEND="numpy",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "gpuad", "--quick", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


def test_quick_run_writes_results_and_plots(quick_run):
    out, stdout = quick_run
    results = json.loads((out / "results.json").read_text())
    rows = results["steps"]
    schedules = {r["schedule"].split("(")[0] for r in rows}
    assert schedules == {"StoreAll", "EveryK", "Revolve", "Budget", "Online"}
    assert all(r["grad_max_diff"] < 1e-6 for r in rows)
    assert all(r["peak_bytes"] > 0 and r["step_evaluations"] >= r["length"] for r in rows)
    assert results["training"]["losses"] and results["memory"] == "host"
    assert isinstance(results["training"]["learning"], bool)
    for r in rows:  # the median of the repeats inside their range
        assert r["seconds_min"] <= r["seconds"] <= r["seconds_max"]
        assert len(r["seconds_all"]) == results["repeats"]
    assert all(r["budget_bytes"] > 0 for r in rows if r["schedule"].startswith("Budget"))
    assert "--quick set --lengths 20,40" in stdout  # it says what it changed
    for name in ("memory_vs_length.png", "time_vs_memory.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        assert str(out / name) in stdout
    for family in schedules:
        assert family in stdout  # the table lists every schedule


@pytest.mark.parametrize("argv, option", [
    (["--lengths", "ten"], "--lengths"), (["--schedules", "magic"], "--schedules"),
    (["--memory-budget", "lots"], "--memory-budget"), (["--hidden", "0"], "--hidden"),
    (["--learning-rate", "fast"], "--learning-rate"), (["--seed", "1.5"], "--seed"),
    (["--repeats", "0"], "--repeats"), (["--backend", "tpu"], "--backend"),
    (["--no-such-option"], "--no-such-option")])
def test_bad_options_name_the_option(argv, option):
    with pytest.raises(OptionError, match=option):
        parse(argv)


def _run(argv, **env_changes):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_changes)
    return subprocess.run([sys.executable, "-m", "gpuad", *argv], capture_output=True,
                          text=True, env=env, timeout=120)


def test_bad_option_is_one_line_without_traceback():
    proc = _run(["--memory-budget", "2 parsecs"])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "--memory-budget" in proc.stderr


def test_budget_accepts_units():
    assert parse(["--memory-budget", "512MB"]).memory_budget == 512 * 10**6
    assert parse(["--memory-budget", "2GiB"]).memory_budget == 2 * 2**30
