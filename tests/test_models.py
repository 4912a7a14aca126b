"""Registry conventions, the ECCV16 network, and weights that are fetched and verified."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vidcolor.errors import WeightsError
from vidcolor.models import get_model_entry, get_weights, list_models, load_model
from vidcolor.models.eccv16 import eccv16
from vidcolor.models.weights_cache import fetch

SHIPPED = [name for name in list_models() if name != "tiny"]


@pytest.mark.parametrize("name", SHIPPED)
def test_weights_meta_schema(name: str) -> None:
    for w in get_model_entry(name).weights:
        assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9_]+", w.name)
        assert w.license and w.input_size % 32 == 0
        assert re.fullmatch(r"[0-9a-f]{64}", w.sha256), f"{w.name} has no sha256"
        assert w.url is None or w.url.startswith("https://")
        assert (w.url is None) != (w.packaged is None), "weights come from a URL or the package"


def test_a_retired_weights_name_says_where_its_weights_went() -> None:
    from vidcolor.errors import UsageError

    with pytest.raises(UsageError, match=r"lite.v3 no longer ships: lite.v4 .*--weights"):
        get_weights("lite.v3")
    with pytest.raises(UsageError, match="lite has: lite.v4"):
        get_weights("lite.v9")


def test_eccv16_contract_and_parameter_count() -> None:
    net = eccv16()
    assert sum(p.numel() for p in net.parameters()) == get_weights("eccv16").meta["num_params"]
    with torch.no_grad():
        assert net(torch.zeros(1, 1, 64, 64)).shape == (1, 313, 16, 16)


def _release_like_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict named like the authors' release (with its final projection layers)."""
    torch.manual_seed(seed)
    state = dict(eccv16().state_dict())
    state["model_out.weight"] = torch.randn(2, 313, 1, 1)
    return state


@pytest.fixture
def loopback_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **k: object) -> None:
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        thread.join()


def test_fetch_verifies_and_loads_release_weights(loopback_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = loopback_server
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path / "cache"))
    path = root / "release.pth"
    torch.save(_release_like_state(), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    weights = replace(get_weights("eccv16"), sha256=digest, size=path.stat().st_size)
    seen: list[int] = []
    fetched = fetch(weights, url=f"{base}/release.pth", allow_insecure=True, progress=lambda done, total: seen.append(done))
    assert fetched.read_bytes() == path.read_bytes() and seen[-1] == path.stat().st_size
    assert not list(fetched.parent.glob("*.part"))
    state = torch.load(fetched, weights_only=True)
    net = eccv16(state_dict=state)
    assert torch.equal(net.model1[0].weight, state["model1.0.weight"])


def test_fetch_rejects_a_wrong_checksum_and_leaves_nothing(loopback_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = loopback_server
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path / "cache"))
    (root / "bad.pth").write_bytes(b"not the weights")
    with pytest.raises(WeightsError, match="not the published one"):
        fetch(get_weights("eccv16"), url=f"{base}/bad.pth", allow_insecure=True)
    assert not any((tmp_path / "cache").rglob("*.pth*"))


def test_fetch_refuses_plain_http_and_explains_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path / "cache"))
    with pytest.raises(WeightsError, match="plain HTTP"):
        fetch(get_weights("eccv16"), url="http://example.invalid/x.pth")
    with pytest.raises(WeightsError, match="download it by hand"):
        fetch(get_weights("eccv16"), url="http://127.0.0.1:9/x.pth", allow_insecure=True, timeout=2)


def test_missing_eccv16_weights_name_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path / "cache"))
    with pytest.raises(WeightsError, match="vidcolor weights fetch eccv16"):
        load_model("eccv16")


def test_local_weights_file_with_wrong_checksum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "colorization_release_v2-9b330a0b.pth"
    torch.save(_release_like_state(), path)
    with pytest.raises(WeightsError, match="sha256"):
        load_model("eccv16", weights_path=path)


def test_own_lite_decoder_loads_from_an_explicit_file(tmp_path: Path) -> None:
    # a decoder from `vidcolor train` cannot match the shipped hash, and need not
    shipped = load_model("lite")
    path = tmp_path / "my_decoder.pt"
    state = {k: v.clone() for k, v in shipped.network.decoder.state_dict().items()}
    torch.save(state, path)
    own = load_model("lite", weights_path=path)
    assert all(torch.equal(a, b) for a, b in zip(own.network.decoder.state_dict().values(), state.values()))


def test_malformed_explicit_lite_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pt"
    path.write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(WeightsError, match="not a loadable weights file"):
        load_model("lite", weights_path=path)
