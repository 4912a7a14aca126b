"""Everything that touches containers and codecs; the only package that imports ``av``.

``probe`` is imported here at once (it shares its name with its module, so it cannot be
lazy); the readers and writers, which bring in numpy, are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidcolor._lazy import lazy_exports
from vidcolor.media.probe import MediaInfo, VideoInfo, probe

if TYPE_CHECKING:
    from vidcolor.media.decode import DecodedFrame, FrameReader
    from vidcolor.media.encode import EncodeOptions, VideoWriter

__getattr__, __dir__ = lazy_exports(__name__, {
    "DecodedFrame": "vidcolor.media.decode",
    "FrameReader": "vidcolor.media.decode",
    "EncodeOptions": "vidcolor.media.encode",
    "VideoWriter": "vidcolor.media.encode",
})

__all__ = ["DecodedFrame", "EncodeOptions", "FrameReader", "MediaInfo", "VideoInfo", "VideoWriter", "probe"]
