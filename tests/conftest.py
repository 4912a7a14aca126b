"""Shared fixtures: the real media in ../shared, and a tiny network with the models' contract."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import torch
from torch import nn

# VIDCOLOR_SHARED points elsewhere where ../shared cannot travel (a lent GPU machine gets only the repo)
SHARED = Path(os.environ.get("VIDCOLOR_SHARED") or Path(__file__).resolve().parents[2] / "shared")


def shared_path(*parts: str) -> Path:
    """A file under ../shared; fails loudly in CI when missing, skips elsewhere."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"test material missing: {path} (../shared must sit beside the repository, or VIDCOLOR_SHARED name it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def media(name: str) -> Path:
    return shared_path("media", name)


class TinyColorNet(nn.Module):
    """L (B,1,S,S) -> logits (B,313,S/4,S/4): the models' contract at a fraction of the cost."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 313, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _register_tiny() -> None:
    from vidcolor.models import Weights, list_models, register_model

    if "tiny" in list_models():
        return
    weights = Weights(name="tiny.test", filename="tiny.pt", sha256="", size=0, license="test only", input_size=64)
    register_model("tiny", weights=(weights,), description="test network")(lambda: TinyColorNet())


_register_tiny()


@pytest.fixture(autouse=True)
def _fail_on_error_logs(caplog: pytest.LogCaptureFixture) -> None:
    """An ERROR log from vidcolor is a bug unless the test expects it (mark: allow_error_logs)."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR and r.name.startswith("vidcolor")]
    assert not errors, f"unexpected ERROR logs: {[r.getMessage() for r in errors]}"
