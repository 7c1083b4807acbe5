"""Every metric the code emits is in the vocabulary (functions/metrics.py), and the docs'
metrics reference (docs/reference/metrics.md) is the vocabulary's table.

The emit sites are read from the source (its syntax tree), so a branch no other test
runs is checked too. An emit site is a call of ``add_metric`` or of any function with a
parameter annotated ``Metric`` (a wrapper such as the worker's ``_count``); its metric
must be traceable to ``Metric.<member>``: no string literal, no f-string. The dashboard
and alarms are checked on the synthesized template (tests/infra/test_monitoring.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from functions.metrics import DEFINITIONS, Metric, markdown_table

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = ROOT / "functions" / "metrics.py"
OBSERVABILITY = ROOT / "functions" / "observability.py"
# The arguments of add_metric that are not dimensions.
NOT_DIMENSIONS = {"metric", "value"}
# Ways to publish that would go around the vocabulary: Powertools' own metric objects.
POWERTOOLS_METRICS = {"Metrics", "EphemeralMetrics", "single_metric"}

ANY = "<any Metric>"  # a parameter annotated Metric: checked where the wrapper is called


def _sources(*folders: str) -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(), filename=str(path))
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != VOCABULARY
    }


@dataclass
class Emitter:
    """A function that emits the metric its parameter ``param`` (at ``position``) names."""

    name: str
    param: str
    position: int
    node: ast.FunctionDef
    dimensions: set[str] = field(default_factory=set)


class Resolver:
    """Which ``Metric`` members an expression can be, following names within a module."""

    def __init__(self, module: ast.Module) -> None:
        self.module = module

    def members(self, expr: ast.expr, scope: ast.FunctionDef | None) -> set[str]:
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "Metric"
        ):
            if expr.attr not in Metric.__members__:
                raise LookupError(f"Metric.{expr.attr} is not declared in functions/metrics.py")
            return {expr.attr}
        if isinstance(expr, ast.IfExp):
            return self.members(expr.body, scope) | self.members(expr.orelse, scope)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
            return set().union(
                *(self._dict_values(v, scope) for v in self._bound(expr.value.id, scope))
            )
        if isinstance(expr, ast.Name):
            if scope is not None and _annotated_metric(scope, expr.id):
                return {ANY}
            bound = self._bound(expr.id, scope)
            if bound:
                return set().union(*(self.members(value, scope) for value in bound))
        raise LookupError(
            f"metric {ast.unparse(expr)} is not a functions.metrics.Metric member "
            "(emit from the vocabulary, not a string)"
        )

    def _dict_values(self, value: ast.expr, scope: ast.FunctionDef | None) -> set[str]:
        if not isinstance(value, ast.Dict):
            raise LookupError(f"metric looked up in {ast.unparse(value)!r}, not a dict literal")
        return set().union(*(self.members(v, scope) for v in value.values))

    def _bound(self, name: str, scope: ast.FunctionDef | None) -> list[ast.expr]:
        """The values assigned to ``name`` in ``scope``, else at the module's top level."""
        for body in ([scope] if scope is not None else []) + [self.module]:
            nodes = ast.walk(body) if body is scope else iter(body.body)  # type: ignore[union-attr]
            values = [v for node in nodes for v in _assigned(node, name)]
            if values:
                return values
        return []


def _assigned(node: ast.AST, name: str) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in node.targets
    ):
        yield node.value
    if (
        isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == name
        and node.value is not None
    ):
        yield node.value


def _annotated_metric(function: ast.FunctionDef, name: str) -> bool:
    return any(
        a.arg == name and isinstance(a.annotation, ast.Name) and a.annotation.id == "Metric"
        for a in function.args.args + function.args.kwonlyargs
    )


def _functions(module: ast.Module) -> Iterator[ast.FunctionDef]:
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef):
            yield node


def _emitters(sources: dict[Path, ast.Module]) -> dict[str, Emitter]:
    found = {}
    for module in sources.values():
        for function in _functions(module):
            for position, arg in enumerate(function.args.args):
                if _annotated_metric(function, arg.arg):
                    found[function.name] = Emitter(function.name, arg.arg, position, function)
    return found


def _callee(call: ast.Call) -> str | None:
    """The emitter a call names: ``add_metric(...)``, ``observability.add_metric(...)``."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return call.func.attr if call.func.value.id == "observability" else None
    return None


@dataclass(frozen=True)
class Site:
    where: str
    emitter: Emitter
    call: ast.Call
    scope: ast.FunctionDef | None
    resolver: Resolver

    def metric(self) -> ast.expr | None:
        for keyword in self.call.keywords:
            if keyword.arg == self.emitter.param:
                return keyword.value
        if len(self.call.args) > self.emitter.position:
            return self.call.args[self.emitter.position]
        return None

    def dimensions(self) -> set[str]:
        if self.emitter.name != "add_metric":
            return self.emitter.dimensions
        if any(k.arg is None for k in self.call.keywords):
            raise LookupError("dimensions passed as **mapping: spell them out")
        return {k.arg for k in self.call.keywords if k.arg} - NOT_DIMENSIONS


def _sites(sources: dict[Path, ast.Module], emitters: dict[str, Emitter]) -> list[Site]:
    sites = []
    for path, module in sources.items():
        resolver = Resolver(module)
        scopes = {id(n): f for f in _functions(module) for n in ast.walk(f)}
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and _callee(node) in emitters:
                emitter = emitters[_callee(node)]  # type: ignore[index]
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                sites.append(Site(where, emitter, node, scopes.get(id(node)), resolver))
    # A wrapper's dimensions are those of the add_metric calls that pass its metric on.
    for site in sites:
        metric = site.metric()
        if site.emitter.name == "add_metric" and site.scope is not None and metric is not None:
            wrapper = emitters.get(site.scope.name)
            passed_on = isinstance(metric, ast.Name) and wrapper is not None
            if passed_on and wrapper.name != "add_metric" and metric.id == wrapper.param:
                wrapper.dimensions |= site.dimensions()
    return sites


@pytest.fixture(scope="module")
def sources() -> dict[Path, ast.Module]:
    return _sources("functions")


@pytest.fixture(scope="module")
def sites(sources) -> list[Site]:
    emitters = _emitters(sources)
    assert "add_metric" in emitters, "add_metric must take a `metric: Metric`"
    assert emitters["add_metric"].node in _functions(sources[OBSERVABILITY])
    return _sites(sources, emitters)


def test_every_emitted_metric_is_declared_with_the_dimensions_it_is_emitted_with(sites):
    problems = []
    emitted: set[str] = set()
    for site in sites:
        metric = site.metric()
        if metric is None:
            problems.append(f"{site.where}: {site.emitter.name}() without a metric")
            continue
        try:
            members = site.resolver.members(metric, site.scope)
            dimensions = site.dimensions()
        except LookupError as exc:
            problems.append(f"{site.where}: {exc}")
            continue
        for member in members - {ANY}:
            emitted.add(member)
            declared = set(DEFINITIONS[Metric[member]].dimensions)
            if not dimensions <= declared:
                problems.append(
                    f"{site.where}: {Metric[member]} emitted by {sorted(dimensions - declared)}, "
                    f"declared by {sorted(declared)}"
                )
    assert not problems, "\n".join(problems)
    assert emitted  # the scan found the emit sites at all


def test_no_metric_name_is_spelled_outside_the_vocabulary(sources):
    """A literal name (``"ActionsStarted"``) would be a second place to keep in step."""
    names = {m.value for m in Metric}
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for path, module in sources.items()
        for node in ast.walk(module)
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert not found, "\n".join(found)


def test_nothing_publishes_around_the_vocabulary(sources):
    """Powertools' metric objects take any name: only functions/observability.py uses them."""
    found = []
    for path, module in sources.items():
        if path == OBSERVABILITY:
            continue
        for node in ast.walk(module):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "aws_lambda_powertools"
            ):
                used = {alias.name for alias in node.names} & POWERTOOLS_METRICS
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {name}" for name in used]
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"add_metric", "put_metric"}
                and _callee(node) is None
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.func)}")
    assert not found, "\n".join(found)


def test_every_metric_reference_in_the_code_and_the_stack_is_declared():
    """``Metric.X`` fails only when that line runs; this reads every line."""
    undeclared = [
        f"{path.relative_to(ROOT)}:{node.lineno}: Metric.{node.attr}"
        for path, module in _sources("functions", "infra").items()
        for node in ast.walk(module)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Metric"
        and node.attr not in Metric.__members__
    ]
    assert not undeclared, "\n".join(undeclared)


def test_every_declared_metric_is_published_somewhere(sites):
    """By a function's emit site, or (no service) by a metric filter in the stack."""
    referenced = {
        node.attr
        for module in _sources("functions", "infra").values()
        for node in ast.walk(module)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Metric"
    }
    for metric, spec in DEFINITIONS.items():
        assert metric.name in referenced, f"{metric} is declared but never published"
        assert spec.dimensions == tuple(dict.fromkeys(spec.dimensions)), metric
        assert spec.statistics, metric
    assert set(DEFINITIONS) == set(Metric), "every Metric member needs a Definition"


def test_the_docs_list_the_vocabulary():
    """The metrics reference renders the vocabulary's table, once, when the site is built
    (docs/generate.py), and no page keeps a hand-written copy that could drift."""
    from tests.docs_site import page, pages

    rendered = page("reference/metrics.md")
    header = "| metric | unit | breakdown | service | meaning |\n"
    assert rendered.count(header) == 1
    start = rendered.index(header)
    end = rendered.index("\n\n", start) + 1
    assert rendered[start:end] == markdown_table()
    copies = [p.name for p in pages() if header in p.read_text(encoding="utf-8")]
    assert copies == [], "link to reference/metrics.md instead of copying its table"
