"""respx for the openai client: it sends through httpx2/httpcore2, so mock httpcore2 the way
respx mocks httpcore. Importing this module registers `respx.mock(using="httpcore2")`."""

from __future__ import annotations

import json
from typing import ClassVar

import httpcore2
import httpx
from respx.mocks import HTTPCoreMocker


class HTTPCore2Mocker(HTTPCoreMocker):
    """respx's httpcore mocker, pointed at httpcore2."""

    name = "httpcore2"
    targets: ClassVar[list[str]] = [
        "httpcore2._sync.connection.HTTPConnection",
        "httpcore2._sync.connection_pool.ConnectionPool",
        "httpcore2._sync.http_proxy.HTTPProxy",
        "httpcore2._async.connection.AsyncHTTPConnection",
        "httpcore2._async.connection_pool.AsyncConnectionPool",
        "httpcore2._async.http_proxy.AsyncHTTPProxy",
    ]

    @classmethod
    def from_sync_httpx_response(cls, httpx_response, target, **kwargs):
        return httpcore2.Response(
            status=httpx_response.status_code,
            headers=httpx_response.headers.raw,
            content=httpx_response.stream,
            extensions=httpx_response.extensions,
        )


FAST_RETRY = {"retry-after-ms": "1"}  # the client honours it, so retries take no time in tests


def sse(pieces: list[str], finish: str = "stop", usage: tuple[int, int] = (120, 12)):
    """A streamed chat completion, one delta per piece, then usage."""
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces
    ]
    chunks[0]["choices"][0]["delta"]["role"] = "assistant"  # servers name it in the first delta
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append(
        {
            "choices": [],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": sum(usage),
            },
        }
    )
    body = "".join(
        "data: "
        + json.dumps(
            {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", **c}
        )
        + "\n\n"
        for c in chunks
    )
    return httpx.Response(
        200,
        content=(body + "data: [DONE]\n\n").encode(),
        headers={"content-type": "text/event-stream"},
    )


def completion(
    content: str | None = None,
    finish: str = "stop",
    refusal: str | None = None,
    tool_args: dict | None = None,
    usage: tuple[int, int] = (300, 40),
):
    """A non-streamed chat completion (structured output, tool call or refusal)."""
    message: dict = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    if tool_args is not None:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "Delta", "arguments": json.dumps(tool_args)},
            }
        ]
        finish = "tool_calls"
    return httpx.Response(
        200,
        json={
            "id": "c2",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": sum(usage),
            },
        },
    )


def error(status: int, message: str, code: str | None = None, param: str | None = None):
    """An OpenAI-style error response (retried quickly when the client retries it)."""
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    return httpx.Response(status, json=body, headers=FAST_RETRY)
