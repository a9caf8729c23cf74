"""The layout keeps the design readable: few root modules, no import cycles, no probing of
engines, and no English word tables or regex word alternations in Python (they live in the
language pack under prompts/lang/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "agent"
MAX_ROOT_MODULES = 12
SOURCES = [*sorted(PACKAGE.rglob("*.py")), ROOT / "cli.py"]

# A table of words: a lower-case word or phrase ("more than", "n/a", "e.g").
_WORD = re.compile(r"^[a-z][a-z'’ ./-]*$")
# Two words joined by "|" in a string that is a regular expression.
_ALTERNATION = re.compile(r"[A-Za-z]{2,}[^|()\n]{0,40}\|[^|()\n]{0,40}[A-Za-z]{2,}")
_REGEX_SYNTAX = re.compile(r"\\b|\(\?|\\s|\\w|\\d|\[\^|\)\?")
_RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "finditer",
                 "findall"}  # fmt: skip
# An assignment carrying this comment holds identifiers of the design (section keys, statuses,
# formats, field names), not words a reader matches; the comment must say what they are.
EXEMPT = re.compile(r"# identifiers: \w")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _strings(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def language_in_python(path: Path) -> list[str]:
    """Word tables and regex word alternations in one source file."""
    source = path.read_text("utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    regex_args = set()
    for node in ast.walk(tree):
        func = getattr(node, "func", None)
        if (
            isinstance(node, ast.Call)
            and isinstance(func, ast.Attribute)
            and func.attr in _RE_FUNCTIONS
            and isinstance(func.value, ast.Name)
            and func.value.id == "re"
        ):
            regex_args.update(id(s) for s in _strings(node))
    for s in _strings(tree):
        regex = id(s) in regex_args or _REGEX_SYNTAX.search(s.value)
        exempt = any(EXEMPT.search(line) for line in lines[s.lineno - 1 : s.end_lineno])
        if id(s) not in docs and regex and not exempt and _ALTERNATION.search(s.value):
            found.append(f"{path.name}:{s.lineno}: regex word alternation {s.value[:50]!r}")
    bodies = [tree.body] + [c.body for c in ast.walk(tree) if isinstance(c, ast.ClassDef)]
    for body in bodies:
        for statement in body:
            if not isinstance(statement, ast.Assign | ast.AnnAssign) or statement.value is None:
                continue
            if any(
                EXEMPT.search(line) for line in lines[statement.lineno - 1 : statement.end_lineno]
            ):
                continue
            split = [
                call.func.value
                for call in ast.walk(statement.value)
                if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "split"
                and isinstance(call.func.value, ast.Constant)
            ]
            words = [w for text in split for w in str(text.value).split()]
            words += [
                s.value
                for s in _strings(statement.value)
                if _WORD.match(s.value.strip()) and "_" not in s.value and s not in split
            ]
            if len(words) >= 3:
                target = statement.targets[0] if isinstance(statement, ast.Assign) else None
                name = ast.unparse(target or statement.target)
                found.append(f"{path.name}:{statement.lineno}: table {name} of {words[:4]}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_english_word_tables_or_alternations_in_python(path):
    assert language_in_python(path) == []


def test_the_detector_finds_tables_and_alternations(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import re\n"
        "FILLER = re.compile(r'^(?:well|so|anyway)\\b')\n"
        "STOP = frozenset('the and of'.split())\n"
        "WORDS = {'one': 1, 'two': 2, 'three': 3}\n"
        "KEYS = ('a_b', 'c_d', 'e_f')\n"
        "KINDS = ('pdf', 'html', 'md')  # identifiers: report formats\n",
        encoding="utf-8",
    )
    found = language_in_python(sample)
    assert [f.split(": ", 1)[1] for f in found] == [
        "regex word alternation '^(?:well|so|anyway)\\\\b'",
        "table STOP of ['the', 'and', 'of']",
        "table WORDS of ['one', 'two', 'three']",
    ]


def test_the_package_root_holds_few_modules():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= MAX_ROOT_MODULES, modules


def _imports(path: Path) -> set[str]:
    """Modules of agent/ that a module imports when it is imported (not lazily, not for types)."""
    tree = ast.parse(path.read_text("utf-8"))
    name = module_name(path)
    out = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                break
            if isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                if sub.module.startswith("agent"):
                    out.add(sub.module)
                    out.update(f"{sub.module}.{alias.name}" for alias in sub.names)
            elif isinstance(sub, ast.Import):
                out.update(a.name for a in sub.names if a.name.startswith("agent"))
    known = {module_name(p) for p in SOURCES}
    return {m for m in out if m in known and m != name}


def test_no_import_cycles():
    graph = {module_name(p): _imports(p) for p in SOURCES}
    # A package's __init__ is imported with any of its modules.
    for module in list(graph):
        parent = module.rpartition(".")[0]
        if parent in graph and parent != module:
            graph[module] = graph[module] | {parent}
    visiting, done, cycles = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append(" -> ".join([*trail[trail.index(node) :], node]))
            return
        visiting.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt != node.rpartition(".")[0] or node == nxt:
                visit(nxt, [*trail, node])
        visiting.discard(node)
        done.add(node)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []


def test_no_engine_is_probed_with_getattr():
    probes = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            name = getattr(node.func, "id", "") if isinstance(node, ast.Call) else ""
            if name in ("getattr", "hasattr") and "engine" in ast.unparse(node.args[0]):
                probes.append(f"{path.name}:{node.lineno}")
    assert probes == []
