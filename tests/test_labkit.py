"""labkit's shared models: the first lab that asks for a model trains it, the next ones load the same weights."""
import importlib.util

import pytest
import torch

from handbook.paths import NOTEBOOKS

TINY = dict(steps=3, d_model=16, n_heads=2, n_layers=1)  # trains in well under a second


@pytest.fixture
def labkit(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("labkit", NOTEBOOKS / "labkit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "MODEL_CACHE", tmp_path)
    return module


def test_a_model_is_trained_once_then_loaded(labkit, tmp_path, monkeypatch):
    trained, _, history = labkit.handbook_gpt(**TINY)
    assert len(list(tmp_path.glob("handbook-gpt-*.pt"))) == 1

    def train_again(*args, **kwargs):
        raise AssertionError("the cached model was trained again")

    monkeypatch.setattr(labkit, "train_gpt", train_again)
    loaded, _, loaded_history = labkit.handbook_gpt(**TINY)
    assert loaded_history == history and not loaded.training
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), loaded.state_dict().values(), strict=True))


def test_another_recipe_is_another_model(labkit, tmp_path):
    labkit.handbook_gpt(**TINY)
    labkit.handbook_gpt(**{**TINY, "steps": 4})
    assert len(list(tmp_path.glob("handbook-gpt-*.pt"))) == 2


def test_the_callers_random_stream_is_the_same_whether_trained_or_loaded(labkit):
    draws = []
    for _ in range(2):  # the first call trains, the second loads
        torch.manual_seed(5)
        labkit.handbook_gpt(**TINY)
        draws.append(torch.rand(3))
    torch.manual_seed(5)
    assert torch.equal(draws[0], torch.rand(3)) and torch.equal(draws[1], draws[0])
