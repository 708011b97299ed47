"""The journal's one error: every fault of the file, named with its cause.

SQLite and the OS say "unable to open database file" or "File exists" for
causes a person can fix in a moment if told which: ``cause_of`` looks.

Stdlib only: the recording CLI reports these.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class JournalError(RuntimeError):
    """The journal could not be opened, read or written; the message says why."""


def cause_of(
    path: str,
    statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
    writable: Callable[[str], bool] = lambda target: os.access(target, os.W_OK),
) -> str | None:
    """Why a journal at ``path`` cannot be created or written, in words, when
    the file system tells: a parent that is a file, a read-only file system,
    a directory or file this user may not write. ``None`` when none of these.
    (``statvfs`` and ``writable`` ask the OS; a test asks a stand-in.)"""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return f"{path} is a directory, not a journal file"
    existing = os.path.dirname(path)
    while not os.path.exists(existing):  # the nearest part of the path that exists
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{existing} is a file, not a directory"
    if statvfs(existing).f_flag & os.ST_RDONLY:
        return f"{existing} is on a read-only file system"
    target = path if os.path.exists(path) else existing
    if not writable(target):
        return f"{target} is not writable by this user (uid {os.getuid()})"
    return None


__all__ = ["JournalError", "cause_of"]
