"""Everything that touches containers and codecs; the only package that imports ``av``."""

from vidcolor.media.decode import DecodedFrame, FrameReader
from vidcolor.media.encode import EncodeOptions, VideoWriter
from vidcolor.media.probe import MediaInfo, VideoInfo, probe

__all__ = ["DecodedFrame", "EncodeOptions", "FrameReader", "MediaInfo", "VideoInfo", "VideoWriter", "probe"]
