"""Where weights live on disk, and how they get there: fetch with checksum, atomic rename."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from vidcolor.errors import WeightsError
from vidcolor.models._api import Weights

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while downloading."""

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """``$VIDCOLOR_CACHE`` or the platform's user cache dir (``~/.cache/vidcolor``)."""
    env = os.environ.get("VIDCOLOR_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("vidcolor"))


def cached_path(weights: Weights) -> Path:
    return cache_dir() / "weights" / weights.filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, weights: Weights) -> None:
    """Raise WeightsError unless ``path`` holds exactly the published file."""
    actual = sha256_of(path)
    if actual != weights.sha256:
        raise WeightsError(
            f"{path} is not {weights.name}: sha256 {actual[:12]}... expected {weights.sha256[:12]}...; "
            f"delete it and run: vidcolor weights fetch {weights.arch}"
        )


def locate(weights: Weights, explicit: Path | None = None) -> Path | None:
    """The local file for ``weights``: an explicit path, the package, or the cache; None when absent."""
    if explicit is not None:
        if not explicit.is_file():
            raise WeightsError(f"weights file {explicit} does not exist")
        return explicit
    packaged = weights.packaged_path()
    if packaged is not None and packaged.is_file():
        return packaged
    cached = cached_path(weights)
    return cached if cached.is_file() else None


def fetch(
    weights: Weights,
    *,
    url: str | None = None,
    progress: ProgressCallback | None = None,
    allow_insecure: bool = False,
    timeout: float = 30.0,
) -> Path:
    """Download ``weights`` into the cache, verify its sha256, and rename it into place.

    Args:
        url: override the registry's URL (tests serve a file on loopback).
        allow_insecure: accept plain HTTP; only for loopback test servers.

    Raises:
        WeightsError: no URL, not HTTPS, the network fails, or the checksum differs.
    """
    import urllib.error  # here, not at the top: http.client and ssl would slow every CLI start-up
    import urllib.request

    url = url or weights.url
    if url is None:
        raise WeightsError(f"{weights.name} ships inside vidcolor and has nothing to download")
    if not url.startswith("https://") and not allow_insecure:
        raise WeightsError(f"refusing to download {weights.name} over plain HTTP: {url}")
    target = cached_path(weights)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{weights.filename}.", suffix=".part", dir=target.parent)
    except OSError as ex:
        raise WeightsError(
            f"cannot write to the weights cache {target.parent} ({ex.strerror or ex}); "
            "set VIDCOLOR_CACHE to a writable folder"
        ) from ex
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            total = int(response.headers.get("Content-Length") or weights.size or 0)
            done = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != weights.sha256:
            raise WeightsError(
                f"downloaded {weights.filename} has sha256 {digest.hexdigest()[:12]}..., expected "
                f"{weights.sha256[:12]}...; the file at {url} is not the published one"
            )
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError) as ex:
        raise WeightsError(
            f"could not download {weights.filename} from {url} ({getattr(ex, 'reason', ex)}); "
            f"download it by hand and put it at {target}, or pass --weights PATH"
        ) from ex
    finally:
        tmp.unlink(missing_ok=True)
    log.info("saved %s to %s", weights.name, target)
    return target
