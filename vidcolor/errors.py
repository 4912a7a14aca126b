"""Exceptions that the CLI turns into one-line messages.

Every error a user can cause or fix is a :class:`VidcolorError`; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations


class VidcolorError(Exception):
    """Base class: the message is one line saying what is wrong and what to do."""

    exit_code = 1


class MediaError(VidcolorError):
    """The input cannot be read or the output cannot be written."""


class WeightsError(VidcolorError):
    """Model weights are missing, corrupt or do not match their checksum."""


class EngineError(VidcolorError):
    """An inference back-end cannot be built or run."""


class UsageError(VidcolorError):
    """Options that contradict each other or the input."""

    exit_code = 2
