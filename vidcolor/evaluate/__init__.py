"""Quality evaluation: colourise colour photographs from their L and score them against the originals."""

from vidcolor.evaluate.report import markdown_table, write_report
from vidcolor.evaluate.runner import EvalConfig, EvalResult, evaluate

__all__ = ["EvalConfig", "EvalResult", "evaluate", "markdown_table", "write_report"]
