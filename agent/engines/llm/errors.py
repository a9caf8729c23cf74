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
    try:
        import openai
    except ImportError:  # another provider without the openai package
        return Transient(_short(exc))
    import pydantic

    if isinstance(exc, openai.LengthFinishReasonError):
        return Truncated("the answer was cut off at the token limit")
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return Refused("a content filter stopped the answer")
    if isinstance(exc, pydantic.ValidationError | ValueError) and not isinstance(
        exc, openai.OpenAIError
    ):
        return InvalidOutput(_short(exc))
    if isinstance(exc, openai.AuthenticationError):
        return ModelError(
            "the model server rejected the API key (401); set OPENAI_API_KEY or run "
            "`icp config set api_key KEY`, then `icp doctor`"
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return ModelError(f"the key may not use this model (403): {_short(exc)}")
    if isinstance(exc, openai.NotFoundError):
        return ModelError(
            f"the server does not know this model or URL (404): {_short(exc)}; check --model "
            "and --base-url (`ollama list` shows local models), then `icp doctor`"
        )
    if isinstance(exc, openai.RateLimitError):
        if _code(exc) == "insufficient_quota":
            return ModelError(
                "the API account has no quota left (insufficient_quota); add credit or use "
                "another key, or run without --engine llm"
            )
        return Transient("rate limited (429) after retries")
    if isinstance(exc, openai.BadRequestError):
        text = f"{_code(exc) or ''} {getattr(exc, 'param', '') or ''} {exc}".lower()
        if any(hint in text for hint in _STRUCTURED_HINTS):
            return Unsupported(_short(exc))
        return ModelError(f"the model server rejected the request (400): {_short(exc)}")
    if isinstance(exc, openai.APITimeoutError):
        return Transient("timed out after retries")
    if isinstance(exc, openai.APIConnectionError):
        return Transient("cannot connect to the model server")
    if isinstance(exc, openai.APIStatusError):
        return Transient(f"server error {exc.status_code} after retries")
    if isinstance(exc, openai.OpenAIError):
        return Transient(_short(exc))
    return Transient(_short(exc))


def _code(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    body = getattr(exc, "body", None)
    if code is None and isinstance(body, dict):
        code = body.get("code") or (body.get("error") or {}).get("code")
    return code


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
