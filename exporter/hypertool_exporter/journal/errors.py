"""The journal's one error: every fault of the file, named with its cause."""

from __future__ import annotations


class JournalError(RuntimeError):
    """The journal could not be opened, read or written; the message says why."""


__all__ = ["JournalError"]
