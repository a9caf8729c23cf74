"""Token and cost accounting for model calls: one record per call, totals per session."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# USD per million (prompt, completion) tokens, list prices; `icp config set price_input ...`
# overrides them for any other model. Estimates only: the provider's bill is authoritative.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


@dataclass
class CallRecord:
    """One model call: what it was for, tokens, seconds, how it ended."""

    purpose: str  # question, extract, synthesis
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # tokens counted by us because the server sent no usage
    cost_usd: float | None = None
    seconds: float = 0.0
    outcome: str = "ok"  # ok, or the failure kind that made the step fall back
    kept: int = 0  # extraction: items added after quote checks
    dropped: int = 0  # extraction: items dropped because a quote did not match
    after_seq: int | None = None

    def as_row(self) -> dict[str, Any]:
        """The record as a dict for the store."""
        return asdict(self)


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters per token) when the server sends none."""
    return max(1, (len(text) + 3) // 4) if text else 0


def price(model: str, price_input: float | None = None, price_output: float | None = None):
    """(input, output) USD per million tokens for a provider:model, or None when unknown."""
    if price_input is not None or price_output is not None:
        return (price_input or 0.0, price_output or 0.0)
    name = model.partition(":")[2] or model
    for known in sorted(PRICES, key=len, reverse=True):  # "gpt-4o-mini" before "gpt-4o"
        if name == known or name.startswith(known + "-"):
            return PRICES[known]
    return None


def cost(prompt_tokens: int, completion_tokens: int, rates) -> float | None:
    """Estimated USD for one call at the given rates."""
    if rates is None:
        return None
    return (prompt_tokens * rates[0] + completion_tokens * rates[1]) / 1_000_000


def usage_tokens(message: Any) -> tuple[int, int] | None:
    """(prompt, completion) tokens from a LangChain message's usage metadata, if it has any."""
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return None
    return int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)


def totals(rows: list[dict]) -> dict[str, Any]:
    """Session totals as `icp sessions --json` and the report show them."""
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    return {
        "model_calls": len(rows),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "completion_tokens": sum(r["completion_tokens"] for r in rows),
        "cost_usd": round(sum(costs), 6) if costs else None,
        "failed_calls": sum(r["outcome"] != "ok" for r in rows),
        "dropped_items": sum(r["dropped"] for r in rows),
        "models": sorted({r["model"] for r in rows}),
    }


def format_cost(value: float | None) -> str:
    """ "$0.0123", or "-" when unknown."""
    return "-" if value is None else f"${value:.4f}"


def session_rows(store: Any) -> list[dict]:
    """`icp sessions` rows: each session's fields plus its model-call totals."""
    calls: dict[str, list[dict]] = {}
    for row in store.model_calls():
        calls.setdefault(row["session_id"], []).append(row)
    return [{**s.as_dict(), **totals(calls.get(s.id, []))} for s in store.sessions()]
