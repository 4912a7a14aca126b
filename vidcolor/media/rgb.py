"""RGB scans to full-range planar Y'CbCr and back, at the scan's own depth, and requantising codes.

swscale rounds high-depth RGB <-> YUV through fewer bits (a 16-bit grey comes back up to 255
codes off, 10-bit chroma 1 code off centre), so these conversions are done in numpy (float32: exact to
well under a code at 16 bits, and half the memory traffic of float64 on 4K scans): a grey
scan (R = G = B) gives Y = its value exactly and neutral chroma.
"""

from __future__ import annotations

import av
import numpy as np

from vidcolor.color.spec import MATRIX_COEFFS

# The planar format a still of this depth is read in (full range, BT.709 tags set by the probe).
RGB_READ_FORMATS = {8: "yuv444p", 10: "yuv444p10le", 12: "yuv444p12le", 16: "yuv444p16le"}
GREY_READ_FORMATS = {8: "gray", 10: "gray10le", 12: "gray12le", 16: "gray16le"}


def format_bits(pix_fmt: str) -> int:
    """Bits per sample of a pixel format, rounded up to 8, 10, 12 or 16 (float formats count as 16)."""
    fmt = av.VideoFormat(pix_fmt)
    bits = max((c.bits for c in fmt.components), default=8)
    if "f16" in pix_fmt or "f32" in pix_fmt:
        return 16
    return next(b for b in (8, 10, 12, 16) if bits <= b)


def still_read_format(pix_fmt: str) -> str:
    """The planar format a still in ``pix_fmt`` is read in: YUV 4:4:4 for colour, grey for grey."""
    bits = format_bits(pix_fmt)
    fmt = av.VideoFormat(pix_fmt)
    if fmt.is_rgb or len(fmt.components) >= 3:
        return RGB_READ_FORMATS[bits]
    return GREY_READ_FORMATS[bits]


def requantize(codes: np.ndarray, from_bits: int, to_bits: int, *, full_range: bool, dtype: np.dtype,
               to_full_range: bool | None = None) -> np.ndarray:
    """Luma codes of one depth (and range) at another, rounded to nearest (not truncated).

    Limited-range codes scale by a power of two (16 << 2 is 64, black stays black); full-range
    ones by the ratio of the maxima, so white stays white at any depth. ``to_full_range``
    False maps full-range codes into the limited range (ProRes has no full range).
    """
    to_full = full_range if to_full_range is None else to_full_range
    if from_bits == to_bits and full_range == to_full:
        return codes
    top = (1 << to_bits) - 1
    if not full_range and not to_full:
        shift = to_bits - from_bits
        if shift > 0:
            return codes.astype(dtype) << shift
        wide = codes.astype(np.uint32)
        return np.minimum((wide + (1 << (-shift - 1))) >> -shift, top).astype(dtype)
    unit = codes.astype(np.float64) / ((1 << from_bits) - 1) if full_range else \
        (codes.astype(np.float64) - (16 << (from_bits - 8))) / (219 << (from_bits - 8))
    scaled = unit * top if to_full else unit * (219 << (to_bits - 8)) + (16 << (to_bits - 8))
    return np.clip(np.rint(scaled), 0, top).astype(dtype)


def _write_plane(frame: av.VideoFrame, index: int, values: np.ndarray) -> None:
    plane = frame.planes[index]
    dtype = values.dtype
    view = np.frombuffer(plane, dtype=dtype).reshape(plane.height, plane.line_size // dtype.itemsize)
    view[:, : plane.width] = values


def planar_from_rgb(frame: av.VideoFrame, read_format: str, matrix: str = "bt709") -> av.VideoFrame:
    """An RGB still as full-range Y'CbCr 4:4:4 in ``read_format``; any other frame is returned as it is."""
    if not read_format.startswith("yuv444p") or frame.format.name == read_format:
        return frame
    fmt = frame.format
    if not (fmt.is_rgb or fmt.name.startswith("gbr")):
        return frame
    rgb = frame.to_ndarray()
    if rgb.ndim == 3 and rgb.shape[0] in (3, 4) and rgb.shape[-1] not in (3, 4):
        rgb = np.moveaxis(rgb, 0, -1)
    bits = 8 if read_format == "yuv444p" else int(read_format[7:9])
    top = (1 << bits) - 1
    if np.issubdtype(rgb.dtype, np.floating):
        # EXR is scene-linear; taken as it is, clipped to [0, 1] (no transfer curve is applied)
        values = np.clip(rgb[..., :3].astype(np.float32), 0, 1) * top
    else:
        values = rgb[..., :3].astype(np.float32) * (top / ((1 << format_bits(fmt.name)) - 1))
    r, g, b = values[..., 0], values[..., 1], values[..., 2]
    kr, kb = MATRIX_COEFFS[matrix]
    y = kr * r + (1 - kr - kb) * g + kb * b
    half = 1 << (bits - 1)
    cb = half + (b - y) / (2 * (1 - kb))
    cr = half + (r - y) / (2 * (1 - kr))
    dtype = np.dtype(np.uint16 if bits > 8 else np.uint8)
    out = av.VideoFrame(frame.width, frame.height, read_format)
    for i, plane in enumerate((y, cb, cr)):
        _write_plane(out, i, np.clip(np.rint(plane), 0, top).astype(dtype))
    out.pts = frame.pts
    out.color_range = 2  # AVCOL_RANGE_JPEG
    out.colorspace = 1  # AVCOL_SPC_BT709
    return out


def rgb_from_planar(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, bits: int, out_bits: int, matrix: str = "bt709") -> np.ndarray:
    """(H, W, 3) RGB codes at ``out_bits`` from full-range Y'CbCr 4:4:4 codes at ``bits``.

    Y' is kept: where the colour would leave the RGB cube (a saturated hue on near-black or
    near-white film), its chroma is scaled towards grey until it fits, instead of clipping
    a channel, which would change the grey the scan had.
    """
    half = 1 << (bits - 1)
    kr, kb = MATRIX_COEFFS[matrix]
    kg = 1 - kr - kb
    top_in = (1 << bits) - 1
    yf = y.astype(np.float32)
    rgb = np.empty((*y.shape, 3), dtype=np.float32)
    rgb[..., 0] = (2 * (1 - kr)) * (cr.astype(np.float32) - half)  # R - Y'
    rgb[..., 2] = (2 * (1 - kb)) * (cb.astype(np.float32) - half)  # B - Y'
    rgb[..., 1] = (-kr / kg) * rgb[..., 0] - (kb / kg) * rgb[..., 2]  # G - Y'
    rgb += yf[..., None]
    outside = ((rgb < 0) | (rgb > top_in)).any(axis=-1)
    if outside.any():  # few pixels as a rule: only they pay for the fit
        ys = yf[outside][:, None]
        offsets = rgb[outside] - ys
        room = np.where(offsets > 0, top_in - ys, ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.where(np.abs(offsets) > 1e-6, room / np.abs(offsets), np.inf)
        rgb[outside] = ys + offsets * np.clip(fit.min(axis=-1), 0, 1)[:, None]
    top = (1 << out_bits) - 1
    if out_bits != bits:
        rgb *= top / top_in
    return np.clip(np.rint(rgb), 0, top).astype(np.uint16 if out_bits > 8 else np.uint8)
