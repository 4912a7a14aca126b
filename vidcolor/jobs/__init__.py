"""Job management around the stream: long films split into resumable segments, and folders of films.

The data path itself (decode, colour, encode) is :mod:`vidcolor.pipeline`; this package only
cuts, schedules, resumes and joins, and never imports the optional :mod:`vidcolor.cluster`
(which imports it): a Ray runner is handed in by the caller.
"""

from vidcolor.jobs.job import colorize_auto, colorize_job
from vidcolor.jobs.plan import JobOptions

__all__ = ["JobOptions", "colorize_auto", "colorize_job"]
