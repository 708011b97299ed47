"""The SQLite driver the journal uses: CPython's ``_sqlite3`` extension, bound
without the ``sqlite3`` package's Python layer when the interpreter has it.

That layer registers adapters for ``datetime`` values and so imports
``datetime`` (3-4 ms), on every CLI call, for values the journal never
stores. The objects are the same either way (``sqlite3.connect is
_sqlite3.connect``), so errors raised here are ``sqlite3.Error`` to any caller.
"""

from __future__ import annotations

try:
    import _sqlite3 as _module
except ImportError:  # an interpreter that lays the driver out otherwise
    import sqlite3 as _module  # type: ignore[no-redef]

SQLITE_LIMIT_VARIABLE_NUMBER = _module.SQLITE_LIMIT_VARIABLE_NUMBER
Connection = _module.Connection
Cursor = _module.Cursor
Error = _module.Error
OperationalError = _module.OperationalError
connect = _module.connect

__all__ = [
    "SQLITE_LIMIT_VARIABLE_NUMBER",
    "Connection",
    "Cursor",
    "Error",
    "OperationalError",
    "connect",
]
