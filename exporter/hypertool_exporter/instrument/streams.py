"""Streams an observed LLM call returns: the call finishes when the stream does.

Each chunk passes through ``call.observe`` (usage, model and text arrive in
chunks) and the call is finished, with the error if one was raised, when the
stream is exhausted, fails or is closed early.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol


class ObservedCall(Protocol):
    """What a stream reports to: ``call.LLMCall``."""

    def observe(self, response: Any) -> None: ...

    def finish(self, error: BaseException | None = None) -> None: ...


def is_stream(result: Any) -> bool:
    if isinstance(result, str | bytes | dict | list | tuple):
        return False
    return inspect.isgenerator(result) or (
        hasattr(result, "__next__") and hasattr(result, "__iter__")
    )


def is_async_stream(result: Any) -> bool:
    return hasattr(result, "__anext__") and hasattr(result, "__aiter__")


@contextlib.contextmanager
def _finishing(call: ObservedCall) -> Iterator[None]:
    """Finish ``call`` when the stream ends: with the error that ended it, or
    none when it was read to its end or closed early by its reader."""
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc if not isinstance(exc, GeneratorExit) else None
        raise
    finally:
        call.finish(error)


def observed_stream(stream: Iterator[Any], call: ObservedCall) -> Iterator[Any]:
    with _finishing(call):
        for chunk in stream:
            call.observe(chunk)
            yield chunk


async def observed_async_stream(
    stream: AsyncIterator[Any], call: ObservedCall
) -> AsyncIterator[Any]:
    with _finishing(call):
        async for chunk in stream:
            call.observe(chunk)
            yield chunk


__all__ = [
    "ObservedCall",
    "is_async_stream",
    "is_stream",
    "observed_async_stream",
    "observed_stream",
]
