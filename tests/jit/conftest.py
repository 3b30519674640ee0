"""Fixtures of the jit tests."""
import importlib

import pytest

steps_module = importlib.import_module("gpuad.jit.steps")  # (gpuad.jit has an attribute steps)


@pytest.fixture
def recordings(monkeypatch):
    """The StepPrograms each scan or while_loop call with jit=True makes, to see that its
    steps were replayed."""
    made = []
    original = steps_module.StepPrograms.__init__

    def init(self):
        original(self)
        made.append(self)
    monkeypatch.setattr(steps_module.StepPrograms, "__init__", init)
    return made
