"""ECCV16: Zhang, Isola & Efros, "Colorful Image Colorization" (2016).

The network of the authors' PyTorch port (richzhang/colorization, BSD-2-Clause),
without its final 1x1 projection and upsampling: the contract here ends at the
313-bin logits at 1/4 resolution; softmax and decoding run outside in float32.
Registered, with its weights record, in ``vidcolor/models/catalog.py``.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_block(channels: list[int], *, stride_last: int = 1, dilation: int = 1, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        last = i == len(channels) - 2
        stride = stride_last if last else 1
        layers += [
            nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=True),
            nn.ReLU(True),
        ]
    if norm:
        layers.append(nn.BatchNorm2d(channels[-1]))
    return nn.Sequential(*layers)


class ECCV16(nn.Module):
    """L (B,1,S,S), normalised as (L-50)/100, to logits (B,313,S/4,S/4)."""

    def __init__(self) -> None:
        super().__init__()
        self.model1 = _conv_block([1, 64, 64], stride_last=2)
        self.model2 = _conv_block([64, 128, 128], stride_last=2)
        self.model3 = _conv_block([128, 256, 256, 256], stride_last=2)
        self.model4 = _conv_block([256, 512, 512, 512])
        self.model5 = _conv_block([512, 512, 512, 512], dilation=2)
        self.model6 = _conv_block([512, 512, 512, 512], dilation=2)
        self.model7 = _conv_block([512, 512, 512, 512])
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1, bias=True),
            nn.ReLU(True),
            nn.Conv2d(256, 313, 1, bias=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in (self.model1, self.model2, self.model3, self.model4,
                      self.model5, self.model6, self.model7, self.model8):
            x = block(x)
        return x


def _remap_release_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # The release names layers as in its nn.Sequential: model1.0 conv, model1.2 conv,
    # model1.4 batchnorm; ours omit nothing, so only the final projection
    # (model_out, upsample) has to be dropped.
    return {k: v for k, v in state.items() if not k.startswith(("model_out", "upsample4"))}


def eccv16(*, state_dict: dict[str, torch.Tensor] | None = None) -> ECCV16:
    """Build ECCV16; with ``state_dict`` (the authors' release) load it strictly."""
    model = ECCV16()
    if state_dict is not None:
        model.load_state_dict(_remap_release_keys(state_dict), strict=True)
    return model
