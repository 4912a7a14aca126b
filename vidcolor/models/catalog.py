"""The models that ship with vidcolor: their weights records, registered without importing the networks.

``vidcolor weights list`` reads them without importing torch; each builder is
imported from its module (``eccv16.py``, ``lite.py``) when a model is first built.
"""

from __future__ import annotations

from vidcolor.models._api import Weights
from vidcolor.models._registry import declare_model

ECCV16_RELEASE_V2 = Weights(
    name="eccv16.release_v2",
    filename="colorization_release_v2-9b330a0b.pth",
    sha256="9b330a0bae53f4ded77b1e23defbf78beaa09c10ebc4c4999e8e4f4a160b93f9",
    size=128_976_165,
    license="BSD-2-Clause",
    input_size=256,
    url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
    meta={"num_params": 32_235_385, "origin": "richzhang/colorization", "gflops_256": 83.6},
)

# What every lite version is scored against: ../shared/datasets/val (660 images), grayscale = ab 0.
_VAL_BASELINE = {
    "val_grayscale_psnr": 24.39, "val_grayscale_auc_raw": 90.70, "val_grayscale_auc_rebalanced": 60.16,
    "val_truth_colourfulness": 36.16,
}


def _lite_decoder(version: int, sha256: str, size: int, *, temperature: float, prior_correction: float,
                  metrics: dict[str, float], filename: str | None = None, extra: dict | None = None,
                  license: str = "Apache-2.0 (encoder); decoder trained by vidcolor") -> Weights:
    """A packaged lite decoder (v1, v2: prior correction and T tuned on the even half of val,
    ``metrics`` from benchmarks/quality.py on all of val; v4: see its record)."""
    filename = filename or f"lite_decoder_v{version}.pt"
    return Weights(
        name=f"lite.v{version}",
        filename=filename,
        sha256=sha256,
        size=size,
        license=license,
        input_size=224,
        packaged=filename,
        meta={
            "card": "cards/lite.md",
            "num_params_decoder": 1000697,
            "temperature": temperature,
            "prior_correction": prior_correction,
            "metrics": {**metrics, **_VAL_BASELINE},
            **(extra or {}),
        },
    )


# Trained on simulated film (ortho, pan, blue-sensitive stocks, grain, blur, flicker) with the
# encoder's last four blocks, at the picture's own aspect: lite.v3 (a lent H200, 4,414 steps of
# 128 crops), then 4,243 more steps of 32 crops on one CPU thread with the decoder's batch-norm
# statistics kept (sixth session; the mean of its last four checkpoints). lite.v4 replaced
# lite.v3's file: the same network and cost, lower ab error on films and on both photo sets
# (benchmarks/RESULTS.md). Decoding as chosen for lite.v3 by the archival benchmark
# (benchmarks/archival_tune.py): prior correction, T, a confidence gate that leans unsure pixels
# to neutral, a render size of 160 (192 and 224 scored the same within noise and run at about
# half the speed on a CPU), and colour fading to grey below L* 20 (the dark knee). A user's
# --colour-gain above 1 rises from 1 at L* 40 to its full value at L* 60, so more colour does not
# redden the shadows (the maroon coats; benchmarks/RESULTS.md, seventh session).
# ``metrics`` here are still the val-photo figures' keys for `weights list`; the archival
# figures are in the card and benchmarks/RESULTS.md.
LITE_V4 = _lite_decoder(
    4, "9a045500ce931a833a568ad9c1c8704c9426eeda922cf3f1a8e48fda434cab01", 7955365,
    temperature=0.7, prior_correction=0.7, filename="lite_v4.pt",
    license="Apache-2.0 (encoder; its last 4 blocks fine-tuned by vidcolor); decoder trained by vidcolor",
    metrics={},
    extra={"num_params_trained_encoder": 2903344, "aspect_true": True, "render_size": 160,
           "confidence_gate": [0.15, 0.3], "dark_knee": 20.0, "colour_gain_ramp": [40.0, 60.0]},
)

LITE_V2 = _lite_decoder(
    2, "1170c53f2149263c10895ad2d545eab0e1ad168b19bf9b5a661e4ab8e5563508", 2016624,
    temperature=0.6, prior_correction=0.25,
    metrics={"val_psnr": 22.91, "val_ssim": 0.9307, "val_ciede2000": 10.77, "val_colourfulness": 40.40,
             "val_auc_raw": 89.27, "val_auc_rebalanced": 72.26},
)

# The stage-2 decoder: less colour and closer to grayscale's PSNR; on old film it keeps dark
# suits and lawns muted where lite.v2 paints them red (see the card). `--model lite.v1`.
LITE_V1 = _lite_decoder(
    1, "b45b29b6519101d70d79e5a6f2f2d204f0d3513aa27725ebb8b74012599df2e3", 2016624,
    temperature=0.9, prior_correction=0.75,
    metrics={"val_psnr": 24.58, "val_ssim": 0.9486, "val_ciede2000": 9.68, "val_colourfulness": 25.34,
             "val_auc_raw": 90.96, "val_auc_rebalanced": 66.23},
)

declare_model("eccv16", "vidcolor.models.eccv16:eccv16", weights=(ECCV16_RELEASE_V2,),
              description="ECCV16 network, 32.2M parameters, 256x256")
declare_model("lite", "vidcolor.models.lite:lite", weights=(LITE_V4, LITE_V2, LITE_V1),
              description="EfficientNet-Lite0 encoder + trained decoder, CPU-friendly, ships with vidcolor",
              retired=(("lite.v3", "lite.v4 is the same network trained further; lite.v3's file is in the repository's "
                                    "history (git show e419764:vidcolor/models/weights/lite_v3.pt > lite_v3.pt), "
                                    "run it with --model lite.v4 --weights lite_v3.pt"),))
