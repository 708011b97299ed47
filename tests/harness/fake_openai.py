"""A local OpenAI-compatible HTTP server for the interop tests: the real
``openai`` client talks to it as to the API, so instrumentations see real
responses, with no network."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    """Answers ``POST /v1/chat/completions`` with fixed usage; keeps the requests.

    A request offering tools, whose messages hold no tool result yet, is
    answered with a call of its first tool (no arguments), as a model that
    wants the tool would: agent frameworks then run the tool and ask again.
    """

    def __init__(self, prompt_tokens: int = 350, completion_tokens: int = 120):
        self.requests: list[dict] = []
        self.usage = (prompt_tokens, completion_tokens)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(body)
                prompt, completion = server.usage
                message: dict = {"role": "assistant", "content": "Version bumped."}
                finish = "stop"
                tools = body.get("tools") or []
                answered = any(m.get("role") == "tool" for m in body.get("messages", []))
                if tools and not answered:
                    name = tools[0]["function"]["name"]
                    call = {"id": f"call_{len(server.requests)}", "type": "function"}
                    call["function"] = {"name": name, "arguments": "{}"}
                    message = {"role": "assistant", "content": None, "tool_calls": [call]}
                    finish = "tool_calls"
                answer = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "gpt-4o-mini"),
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": finish,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
