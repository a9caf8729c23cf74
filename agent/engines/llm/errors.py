"""Typed model failures: the ones that stop the interview, and the ones that fall back."""

from __future__ import annotations

import re

from agent.errors import ICPError


class ModelError(ICPError):
    """The model cannot be used until the user fixes something (key, quota, model name)."""


class ModelFailure(Exception):
    """One call failed; the interview falls back to the offline engine for that step."""

    kind = "failed"


class Transient(ModelFailure):
    """Connection errors, timeouts, 429 or 5xx that outlasted the client's retries."""

    kind = "unavailable"


class InvalidOutput(ModelFailure):
    """Output that does not parse or validate against the pydantic contract."""

    kind = "invalid output"


class Refused(ModelFailure):
    """The model refused, or a content filter stopped it."""

    kind = "refused"


class Truncated(ModelFailure):
    """The output hit the token limit (finish_reason=length): never used half-filled."""

    kind = "truncated"


class Unsupported(ModelFailure):
    """The server rejected a structured-output method; the next method is tried."""

    kind = "unsupported"


class Rejected(ModelFailure):
    """A 400 the same request would get again: that step falls back, the interview goes on."""

    kind = "rejected"


class TooLong(Rejected):
    """The prompt did not fit the model's context: the step is retried smaller, or falls back."""

    kind = "too long"


class Slow(ModelFailure):
    """No first token (or no end) within the deadline: the draft is asked instead."""

    kind = "too slow"


class Skipped(ModelFailure):
    """The circuit breaker is open after an outage: no call was made for this step."""

    kind = "skipped"


# What an OpenAI-style 400 names when it rejects a structured-output method.
_STRUCTURED_HINTS = (  # identifiers: request parameters, not words
    "response_format",
    "json_schema",
    "structured",
    "tool",
    "function",
)


def classify(exc: BaseException, secret: str | None = None) -> BaseException:
    """Map an exception from a model call to a ModelError (stop) or a ModelFailure (fall back).

    Servers and proxies may echo the key they were sent; the message never holds `secret`
    (the configured key) nor anything else shaped like an API key.
    """
    error = _classify(exc)
    if error.args and isinstance(error.args[0], str):
        error.args = (redact(error.args[0], secret), *error.args[1:])
    return error


# OpenAI and Anthropic style keys, and bearer tokens, wherever a server put them in a message.
_KEYLIKE = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}|(?<=Bearer )\S{8,}",  # identifiers: key prefixes
    re.IGNORECASE,
)


def redact(text: str, secret: str | None = None) -> str:
    """`text` with the secret and anything key-like masked to its last four characters."""
    from agent.config import mask

    if secret and len(secret) >= 8:
        text = text.replace(secret, mask(secret))
    return _KEYLIKE.sub(lambda m: mask(m[0]), text)


def _classify(exc: BaseException) -> BaseException:
    if isinstance(exc, ModelError | ModelFailure):
        return exc
    import pydantic

    special = _openai_special(exc)
    if special is not None:
        return special
    status = _status(exc)
    if status is None:
        if isinstance(exc, pydantic.ValidationError | ValueError) and not _sdk_error(exc):
            return InvalidOutput(_short(exc))
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return Transient("timed out after retries")
        if isinstance(exc, ConnectionError) or "Connect" in type(exc).__name__:
            return Transient("cannot connect to the model server")
        return Transient(_short(exc))
    return _by_status(exc, status)


def _by_status(exc: BaseException, status: int) -> BaseException:
    """The failure an HTTP status means, whichever provider's client raised it."""
    code = (_code(exc) or "").lower()
    text = f"{code} {getattr(exc, 'param', '') or ''} {exc}".lower()
    if status == 401:
        return ModelError(
            "the model server rejected the API key (401); set the provider's key variable "
            "(OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) or run `icp config set api_key KEY`, "
            "then `icp doctor`"
        )
    if status == 403:
        return ModelError(f"the key may not use this model (403): {_short(exc)}")
    if status == 404:
        return ModelError(
            f"the server does not know this model or URL (404): {_short(exc)}; check --model "
            "and --base-url (`ollama list` shows local models), then `icp doctor`"
        )
    if status == 429:
        if "insufficient_quota" in text or "credit balance" in text:
            return ModelError(
                "the API account has no quota left (insufficient_quota); add credit or use "
                "another key, or run without --engine llm"
            )
        return Transient("rate limited (429) after retries")
    if status in (400, 413, 422):
        if status == 413 or any(hint in text for hint in _CONTEXT_HINTS):
            return TooLong(f"the prompt is too long for the model ({status}): {_short(exc)}")
        if any(hint in text for hint in _STRUCTURED_HINTS):
            return Unsupported(_short(exc))
        return Rejected(f"the model server rejected the request ({status}): {_short(exc)}")
    if status in (408, 504):
        return Transient("timed out after retries")
    return Transient(f"server error {status} after retries")


# What a 400 says when the prompt is longer than the model's context window (OpenAI, vLLM,
# llama.cpp, Ollama, Anthropic, Mistral phrase it differently).
_CONTEXT_HINTS = (  # identifiers: server error codes and phrases
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "prompt is too long",
    "too many tokens",
    "exceeds the context",
)


def _status(exc: BaseException) -> int | None:
    """The HTTP status of a provider client's error (openai, anthropic, google-genai, mistral
    over httpx, ollama), or None for errors without one."""
    for value in (
        getattr(exc, "status_code", None),
        getattr(exc, "code", None),
        getattr(exc, "status", None),
        getattr(getattr(exc, "response", None), "status_code", None),
    ):
        # An error status, not the 200 of a good response whose parsing failed.
        if isinstance(value, int) and 400 <= value < 600:
            return value
    return None


def _sdk_error(exc: BaseException) -> bool:
    """True for a provider SDK's own error class (some subclass ValueError)."""
    module = type(exc).__module__.split(".")[0]
    return module in _SDK_MODULES


_SDK_MODULES = frozenset(
    ["openai", "anthropic", "google", "mistralai", "ollama", "httpx"]
)  # identifiers: modules


def _openai_special(exc: BaseException) -> BaseException | None:
    """The openai client's own finish-reason errors and its quota code."""
    try:
        import openai
    except ImportError:
        return None
    if isinstance(exc, openai.LengthFinishReasonError):
        return Truncated("the answer was cut off at the token limit")
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return Refused("a content filter stopped the answer")
    if isinstance(exc, openai.APITimeoutError):
        return Transient("timed out after retries")
    if isinstance(exc, openai.APIConnectionError):
        return Transient("cannot connect to the model server")
    if isinstance(exc, openai.RateLimitError) and _code(exc) == "insufficient_quota":
        return ModelError(
            "the API account has no quota left (insufficient_quota); add credit or use "
            "another key, or run without --engine llm"
        )
    return None


def _code(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    body = getattr(exc, "body", None)
    if not isinstance(code, str) and isinstance(body, dict):
        error = body.get("error")
        code = body.get("code") or (
            error.get("code") or error.get("type") if isinstance(error, dict) else None
        )
    return code if isinstance(code, str) else None


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
