"""Engine build profiles: which model, resolution, batch range and precision a plan is built for.

The profiles live as TOML files in the repository's top-level ``engines/``
folder (kept in version control); plans built from them go to ``engines/cache/``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from vidcolor.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib; tomli is the same parser
    import tomli as tomllib

PROFILES_DIR = Path(__file__).resolve().parents[2] / "engines"
"""The repository's ``engines/`` folder; absent in an installed wheel, which then has no profiles."""

PRECISIONS = ("fp16", "fp32")


@dataclass(frozen=True)
class EngineProfile:
    """One TensorRT optimisation profile over the batch axis at a fixed square input size."""

    model: str
    input_size: int
    min_batch: int
    opt_batch: int
    max_batch: int
    precision: str = "fp16"
    name: str = ""

    def __post_init__(self) -> None:
        where = f"engine profile {self.name or self.model}"
        if not 1 <= self.min_batch <= self.opt_batch <= self.max_batch:
            raise UsageError(f"{where}: need 1 <= min <= opt <= max batch, got {self.min_batch}, {self.opt_batch}, {self.max_batch}")
        if self.input_size <= 0 or self.input_size % 4:
            raise UsageError(f"{where}: input_size must be a positive multiple of 4, got {self.input_size}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"{where}: precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")

    @property
    def stem(self) -> str:
        """File-name stem for artefacts built from this profile."""
        return f"{self.model.replace('.', '_')}-{self.input_size}-{self.precision}"

    @classmethod
    def for_batch(cls, model: str, input_size: int, max_batch: int, precision: str = "fp16") -> EngineProfile:
        """Batch range 1..max_batch, tuned for half the maximum: streams mostly run full or near-full batches."""
        return cls(model, input_size, 1, max(1, max_batch // 2), max_batch, precision)

    def covers(self, model: str, input_size: int, max_batch: int, precision: str) -> bool:
        return (
            self.model == model
            and self.input_size == input_size
            and self.precision == precision
            and self.min_batch == 1
            and self.max_batch >= max_batch
        )


def load_profile(path: Path) -> EngineProfile:
    """Read one profile file; a missing or malformed file is a UsageError naming the file."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as ex:
        raise UsageError(f"cannot read engine profile {path}: {ex.strerror}") from ex
    except tomllib.TOMLDecodeError as ex:
        raise UsageError(f"engine profile {path} is not valid TOML: {ex}") from ex
    try:
        batch = data["batch"]
        return EngineProfile(
            model=str(data["model"]),
            input_size=int(data["input_size"]),
            min_batch=int(batch["min"]),
            opt_batch=int(batch["opt"]),
            max_batch=int(batch["max"]),
            precision=str(data.get("precision", "fp16")),
            name=Path(path).stem,
        )
    except (KeyError, TypeError, ValueError) as ex:
        raise UsageError(f"engine profile {path} needs model, input_size and [batch] min/opt/max: {ex}") from ex


def list_profiles(folder: Path = PROFILES_DIR) -> list[EngineProfile]:
    return [load_profile(p) for p in sorted(folder.glob("*.toml"))] if folder.is_dir() else []


def find_profile(name_or_path: str, folder: Path = PROFILES_DIR) -> tuple[EngineProfile, Path]:
    """A profile by file path or by name in ``folder``, with the file it came from."""
    path = Path(name_or_path)
    if not path.is_file():
        path = folder / f"{name_or_path}.toml"
    if not path.is_file():
        names = ", ".join(p.name for p in list_profiles(folder)) or "none"
        raise UsageError(f"no engine profile {name_or_path!r}; profiles in {folder}: {names}")
    return load_profile(path), path


def matching_profile(model: str, input_size: int, max_batch: int, precision: str, folder: Path = PROFILES_DIR) -> EngineProfile | None:
    """The repository profile a plan built ahead of time would have used, if any covers this request."""
    for profile in list_profiles(folder):
        if profile.covers(model, input_size, max_batch, precision):
            return profile
    return None
