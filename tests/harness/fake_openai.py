"""Local OpenAI- and Anthropic-compatible HTTP servers for the interop tests:
the real ``openai`` and ``anthropic`` clients talk to them as to the APIs, so
instrumentations see real responses, plain and streamed, with no network.

Usage carries every token kind the providers report: cached prompt tokens
and reasoning tokens for OpenAI (inside ``prompt_tokens`` and
``completion_tokens``, as OpenAI counts them), cache reads and writes beside
the input for Anthropic (outside ``input_tokens``, as Anthropic counts them).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server:
    """A threaded loopback server that keeps every request body."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                owner.requests.append(body)
                if body.get("stream"):
                    chunks = owner.stream(body, self.path)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for chunk in chunks:
                        data = chunk.encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                data = json.dumps(owner.answer(body, self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("request-id", f"req_{len(owner.requests)}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, body: dict, path: str) -> dict:
        raise NotImplementedError

    def stream(self, body: dict, path: str) -> list[str]:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeOpenAI(_Server):
    """Answers ``POST /v1/chat/completions`` with fixed usage, plain or
    streamed (the usage in the last chunk, as ``stream_options`` asks).

    A request offering tools, whose messages hold no tool result yet, is
    answered with a call of its first tool (no arguments), as a model that
    wants the tool would: agent frameworks then run the tool and ask again.
    """

    def __init__(
        self,
        prompt_tokens: int = 350,
        completion_tokens: int = 120,
        *,
        cached_tokens: int = 0,
        reasoning_tokens: int = 0,
    ):
        super().__init__()
        self.usage = (prompt_tokens, completion_tokens)
        self.cached_tokens = cached_tokens
        self.reasoning_tokens = reasoning_tokens
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def _usage(self) -> dict[str, Any]:
        prompt, completion = self.usage
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if self.cached_tokens or self.reasoning_tokens:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return usage

    def _message(self, body: dict) -> tuple[dict, str]:
        tools = body.get("tools") or []
        answered = any(m.get("role") == "tool" for m in body.get("messages", []))
        if tools and not answered:
            name = tools[0]["function"]["name"]
            call = {"id": f"call_{len(self.requests)}", "type": "function"}
            call["function"] = {"name": name, "arguments": "{}"}
            return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        return {"role": "assistant", "content": "Version bumped."}, "stop"

    def answer(self, body: dict, path: str) -> dict:
        message, finish = self._message(body)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(),
        }

    def stream(self, body: dict, path: str) -> list[str]:
        message, finish = self._message(body)
        base = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
        }
        delta = {"role": "assistant", "content": message["content"]}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": 0, **message["tool_calls"][0]}]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
        ]
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "choices": [], "usage": self._usage()})
        return [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]


class FakeAnthropic(_Server):
    """Answers ``POST /v1/messages`` with fixed usage, plain or streamed:
    ``input_tokens`` are the uncached ones, cache reads and writes beside them."""

    def __init__(
        self,
        input_tokens: int = 300,
        output_tokens: int = 90,
        *,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ):
        super().__init__()
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_write_tokens = cache_write_tokens
        self.url = f"http://127.0.0.1:{self.port}"

    def _usage(self, output: int) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output,
            "cache_read_input_tokens": self.cache_read_tokens,
            "cache_creation_input_tokens": self.cache_write_tokens,
        }

    def _message(self, body: dict, output: int) -> dict:
        return {
            "id": f"msg_{len(self.requests):04d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-sonnet-4-5"),
            "content": [{"type": "text", "text": "Version bumped."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": self._usage(output),
        }

    def answer(self, body: dict, path: str) -> dict:
        return self._message(body, self.output_tokens)

    def stream(self, body: dict, path: str) -> list[str]:
        start = self._message(body, 1)  # the start reports the input; the end, the output
        start["content"], start["stop_reason"] = [], None
        events = [
            ("message_start", {"type": "message_start", "message": start}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "Version bumped."},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": self._usage(self.output_tokens),
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events]
