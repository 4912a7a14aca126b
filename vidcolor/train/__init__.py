"""Training the ``lite`` decoder: crops, rebalanced soft-encoded loss, resumable loop."""

from vidcolor.train.config import TrainConfig
from vidcolor.train.export import export_decoder
from vidcolor.train.trainer import TrainProgress, TrainResult, train

__all__ = ["TrainConfig", "TrainProgress", "TrainResult", "export_decoder", "train"]
