"""Settings for the model engine: a small TOML file, environment variables and flags."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from agent.errors import InputError
from agent.files import write_atomic
from agent.paths import private_dir

CONFIG_NAME = "config.toml"
DEFAULT_MODEL = "openai:gpt-4o-mini"

# key -> (type, help). Flags beat environment variables, which beat this file.
KEYS: dict[str, tuple[type, str]] = {  # identifiers: setting names
    "engine": (str, "default engine for `icp interview` (`icp --help` lists them)"),
    "model": (str, f"LangChain provider:model (default {DEFAULT_MODEL})"),
    "base_url": (str, "OpenAI-compatible server, e.g. http://localhost:11434/v1 (Ollama)"),
    "api_key": (str, "API key (else OPENAI_API_KEY or the provider's own variable)"),
    "timeout": (float, "seconds per model request (default 60)"),
    "first_token_timeout": (float, "seconds to the question's first token, then the draft (8)"),
    "extract_wait": (float, "seconds the next question waits for the last extraction (2)"),
    "context_tokens": (int, "the model's context window in tokens, when it is small (4096)"),
    "max_retries": (int, "retries for connection errors, 429 and 5xx (default 2)"),
    "price_input": (float, "USD per million prompt tokens, for cost estimates"),
    "price_output": (float, "USD per million completion tokens, for cost estimates"),
}

# Providers LangChain's init_chat_model knows, each with the environment variables that hold
# its key (the first one set wins) and the extra that installs its LangChain package. A provider
# with no key variable authenticates another way (a local server, cloud credentials).
PROVIDERS: dict[str, tuple[tuple[str, ...], str]] = {  # identifiers: provider, key vars, extra
    "openai": (("OPENAI_API_KEY",), ""),
    "azure_openai": (("AZURE_OPENAI_API_KEY",), ""),
    "anthropic": (("ANTHROPIC_API_KEY",), "anthropic"),
    "google_genai": (("GOOGLE_API_KEY", "GEMINI_API_KEY"), "google"),
    "google_vertexai": ((), "google-vertexai"),  # application default credentials
    "google_anthropic_vertex": ((), "google-vertexai"),
    "bedrock": ((), "aws"),  # AWS_PROFILE or AWS_ACCESS_KEY_ID, read by boto3
    "bedrock_converse": ((), "aws"),
    "cohere": (("COHERE_API_KEY",), "cohere"),
    "fireworks": (("FIREWORKS_API_KEY",), "fireworks"),
    "together": (("TOGETHER_API_KEY",), "together"),
    "mistralai": (("MISTRAL_API_KEY",), "mistral"),
    "huggingface": (("HUGGINGFACEHUB_API_TOKEN", "HF_TOKEN"), "huggingface"),
    "groq": (("GROQ_API_KEY",), "groq"),
    "ollama": ((), "ollama"),  # a local server: no key
    "deepseek": (("DEEPSEEK_API_KEY",), "deepseek"),
    "xai": (("XAI_API_KEY",), "xai"),
    "perplexity": (("PPLX_API_KEY", "PERPLEXITY_API_KEY"), "perplexity"),
    "ibm": (("WATSONX_APIKEY",), "ibm"),
    "nvidia": (("NVIDIA_API_KEY",), "nvidia"),
    "azure_ai": (("AZURE_AI_API_KEY",), "azure-ai"),
    "upstage": (("UPSTAGE_API_KEY",), "upstage"),
}
# Extras this project declares in pyproject.toml (the others name LangChain's own package).
EXTRAS = frozenset(["anthropic", "google", "mistral", "ollama"])  # identifiers: extras


def key_variables(provider: str) -> tuple[str, ...]:
    """The environment variables that hold a provider's key."""
    return PROVIDERS.get(provider, ((f"{provider.upper()}_API_KEY",), ""))[0]


def install_hint(provider: str) -> str:
    """How to install a provider's LangChain package."""
    extra = PROVIDERS.get(provider, ((), ""))[1]
    if extra in EXTRAS:
        return f"pip install 'icp-interview[{extra}]'"
    return f"pip install langchain-{(extra or provider).replace('_', '-')}"


def config_path() -> Path:
    """config.toml in $ICP_HOME when set, else in the platform's user config folder."""
    home = os.environ.get("ICP_HOME")
    if home:
        return Path(home).expanduser() / CONFIG_NAME
    import platformdirs

    return Path(platformdirs.user_config_dir("icp", appauthor=False)) / CONFIG_NAME


def load() -> dict:
    """The settings file as a dict ({} when there is none)."""
    path = config_path()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML ({exc}); fix or delete it") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise InputError(f"{path}: unknown setting {unknown[0]!r}; known: {', '.join(KEYS)}")
    return data


def set_value(key: str, value: str) -> Path:
    """Store one setting, converting it to its type; the file is owner-only (0600)."""
    kind = _kind(key)
    try:
        typed = kind(value)
    except ValueError:
        what = {"float": "number", "int": "whole number"}.get(kind.__name__, kind.__name__)
        raise InputError(f"{key} must be a {what}, not {value!r}") from None
    if key == "engine":
        from agent.engines import check_name

        check_name(typed)
    data = load()
    data[key] = typed
    return _write(data)


def unset(key: str) -> Path:
    """Remove one setting."""
    _kind(key)
    data = load()
    data.pop(key, None)
    return _write(data)


def shown() -> dict:
    """The file's settings with the API key masked, for `icp config show`."""
    data = load()
    if "api_key" in data:
        data["api_key"] = mask(data["api_key"])
    return data


def mask(key: str) -> str:
    """An API key with all but its last four characters hidden."""
    return "..." + key[-4:] if len(key) > 8 else "***"


def _kind(key: str) -> type:
    if key not in KEYS:
        raise InputError(f"unknown setting {key!r}; known: {', '.join(KEYS)}")
    return KEYS[key][0]


def _write(data: dict) -> Path:
    path = config_path()
    lines = ["# icp settings; `icp config set KEY VALUE` edits this file."]
    for key, value in data.items():
        # JSON strings and numbers are valid TOML basic strings and numbers.
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    try:
        private_dir(path.parent)  # ICP_HOME or icp's config folder: 0700 when icp creates it
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    # Owner-only from the first byte (also over an older, wider file), and atomic: a crash
    # mid-write leaves the previous settings rather than a truncated file without the key.
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)
    return path


@dataclass(frozen=True)
class ModelSettings:
    """Everything needed to create the chat model, resolved from flags, environment and file."""

    provider: str
    name: str
    base_url: str | None = None
    api_key: str | None = None
    key_source: str = ""
    timeout: float = 60.0
    max_retries: int = 2
    price_input: float | None = None
    price_output: float | None = None
    first_token_timeout: float = 8.0
    extract_wait: float = 2.0
    context_tokens: int | None = None

    @property
    def model(self) -> str:
        """The provider:model string."""
        return f"{self.provider}:{self.name}"

    @property
    def configured(self) -> bool:
        """True when a key or a server was given, or the provider needs no key, so a model
        call can be attempted."""
        return bool(self.api_key or self.base_url or not key_variables(self.provider))

    def describe(self) -> str:
        """One line naming the model, the server and where the key came from (masked)."""
        server = self.base_url or "the provider's default server"
        key = f"key {mask(self.api_key)} from {self.key_source}" if self.api_key else "no key"
        return f"{self.model} at {server}, {key}"


def split_model(spec: str) -> tuple[str, str]:
    """("openai", "gpt-4o-mini") from "openai:gpt-4o-mini"; a bare name means OpenAI."""
    provider, sep, name = spec.strip().partition(":")
    if sep and provider in PROVIDERS and name:
        return provider, name
    if not spec.strip():
        raise InputError("--model must not be empty; e.g. openai:gpt-4o-mini")
    return "openai", spec.strip()  # "llama3.1:8b" on an OpenAI-compatible server


def resolve(model: str | None = None, base_url: str | None = None) -> ModelSettings:
    """Settings from flags, then environment variables, then the config file, then defaults."""
    data = load()
    provider, name = split_model(model or data.get("model") or DEFAULT_MODEL)
    base = base_url or os.environ.get(f"{provider.upper()}_BASE_URL") or data.get("base_url")
    key, source = None, ""
    for var in key_variables(provider):
        if os.environ.get(var):
            key, source = os.environ[var], var
            break
    if key is None and data.get("api_key"):
        key, source = data["api_key"], str(config_path())
    return ModelSettings(
        provider=provider,
        name=name,
        base_url=base or None,
        api_key=key,
        key_source=source,
        timeout=float(data.get("timeout", 60.0)),
        max_retries=int(data.get("max_retries", 2)),
        price_input=data.get("price_input"),
        price_output=data.get("price_output"),
        first_token_timeout=float(data.get("first_token_timeout", 8.0)),
        extract_wait=float(data.get("extract_wait", 2.0)),
        context_tokens=data.get("context_tokens"),
    )


def default_engine() -> str:
    """The engine `icp interview` uses without --engine."""
    from agent.engines import DEFAULT_ENGINE, check_name

    return check_name(str(load().get("engine", DEFAULT_ENGINE)))
