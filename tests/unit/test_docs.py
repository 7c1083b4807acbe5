"""The documentation site: it builds strict, every snippet comes from a file the tests
run, every command in those files parses, and the README stays short."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from functions.actions.envelope import Envelope
from infra.cli.main import build_parser
from infra.config import DeploymentConfig
from tests.docs_site import DOCS, EXAMPLES, ROOT, generator, pages

FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
# What a page may hold inline: output and diagrams, which no test could run.
INLINE = {"text", ""}


def test_the_site_builds_strict(tmp_path: Path) -> None:
    """`make docs`: a broken link or anchor, a missing snippet file, a reference
    mkdocstrings cannot resolve or a setting without a meaning fails the build."""
    built = subprocess.run(  # noqa: S603 - the project's own mkdocs
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert "WARNING" not in built.stderr
    assert (tmp_path / "index.html").is_file()
    assert "enqueue_async_action" in (tmp_path / "reference/python-api/index.html").read_text()


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_snippet_is_included_from_a_file(page: Path) -> None:
    for _, language, body in FENCE.findall(page.read_text(encoding="utf-8")):
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        if language in INLINE:
            continue
        assert lines and all(line.startswith("--8<-- ") for line in lines), (
            f"a {language} snippet written inline: move it to docs/examples/ and include it"
        )


def _example_files(suffix: str) -> list[Path]:
    return sorted(EXAMPLES.rglob(f"*{suffix}"))


def test_every_example_file_is_included_by_a_page() -> None:
    included = "\n".join(p.read_text(encoding="utf-8") for p in pages())
    unused = [
        str(path.relative_to(ROOT))
        for path in EXAMPLES.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
        if f'"{path.relative_to(ROOT)}' not in included
    ]
    assert unused == []


def _commands(path: Path) -> list[list[str]]:
    """Each command line of a shell example (or of the bash blocks of a Markdown file),
    continuation lines joined, comments dropped."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = "\n".join(body for _, language, body in FENCE.findall(text) if language == "bash")
    text = text.replace("\\\n", " ")
    return [words for line in text.splitlines() if (words := shlex.split(line, comments=True))]


def _shell_sources() -> list[Path]:
    return [*_example_files(".sh"), ROOT / "README.md", ROOT / "CONTRIBUTING.md"]


@pytest.mark.parametrize("path", _example_files(".sh"), ids=lambda p: p.name)
def test_shell_examples_are_valid_bash(path: Path) -> None:
    checked = subprocess.run(  # noqa: S603 - bash checking a file's syntax
        ["/bin/bash", "-n", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def _cli_lines() -> list[tuple[str, list[str]]]:
    found = []
    for path in _shell_sources():
        for words in _commands(path):
            if words[0].endswith("actionsctl"):
                # The command ends where the shell's does.
                ends = [words.index(op) for op in ("&&", "||", "|", ";") if op in words]
                argv = words[1 : min(ends, default=len(words))]
                found.append((f"{path.name}: {' '.join(argv[:3])}", argv))
    return found


@pytest.mark.parametrize(("where", "argv"), _cli_lines(), ids=[w for w, _ in _cli_lines()])
def test_every_actionsctl_command_in_the_docs_parses(where: str, argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse's way of refusing
        pytest.fail(f"{where}: actionsctl refuses {argv} (exit {exit_.code})")


def test_every_make_target_in_the_docs_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))
    used = {
        words[1]
        for path in _shell_sources()
        for words in _commands(path)
        if words[0] == "make" and len(words) > 1
    }
    for path in (ROOT / "README.md", ROOT / "CONTRIBUTING.md", *pages()):
        used |= set(re.findall(r"`make ([a-z][\w-]*)", path.read_text(encoding="utf-8")))
    assert used and used <= targets, used - targets


def test_json_examples_parse_and_mean_what_they_say() -> None:
    for path in _example_files(".json"):
        json.loads(path.read_text(encoding="utf-8"))
    sources = json.loads((EXAMPLES / "guides/webhooks/webhook-sources.json").read_text())
    assert set(DeploymentConfig.model_validate(sources).webhook_sources) >= {"billing", "shop-paid"}
    unrecorded = json.loads((EXAMPLES / "guides/webhooks/unrecorded-source.json").read_text())
    config = DeploymentConfig.model_validate(unrecorded)
    assert config.webhook_sources["github-bulk"]["record"] is False
    envelope = Envelope.from_message((EXAMPLES / "guides/hooks/envelope.json").read_text())
    assert envelope.hook == "charge_subscription"
    args = json.loads((EXAMPLES / "reference/errors/process-webhook-args.json").read_text())
    assert set(args) == {"source", "event_type", "delivery_id", "payload"}


def test_an_unexplained_setting_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    generate = generator()
    monkeypatch.delitem(generate.CONTEXT_MEANINGS, "stage")
    with pytest.raises(generate.MissingMeaning, match="stage"):
        generate.render("<!-- generated: context -->")
    monkeypatch.setitem(generate.VARIABLE_MEANINGS, "NO_SUCH_VARIABLE", "gone")
    with pytest.raises(generate.MissingMeaning, match="NO_SUCH_VARIABLE"):
        generate.render("<!-- generated: environment -->")
    with pytest.raises(generate.MissingMeaning, match="no generator"):
        generate.render("<!-- generated: nothing -->")


def test_the_http_reference_lists_every_route_of_the_openapi_document() -> None:
    document = json.loads((ROOT / "events/openapi.json").read_text())
    rendered = generator().render("<!-- generated: http-api -->")
    for path, operations in document["paths"].items():
        for method in operations:
            assert f"## {method.upper()} {path}\n" in rendered


def test_the_readme_fits_on_a_screen_and_points_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 160
    for command in ("make run", "make test", "make docs-serve"):
        assert command in readme
    for name in ("LICENSE", "CHANGELOG.md", "CONTRIBUTING.md"):
        assert (ROOT / name).is_file()


def test_the_errors_page_names_every_dead_letter_reason() -> None:
    from functions.actions.queues import DeadLetterReason

    table = (DOCS / "reference/errors.md").read_text().split("## Dead-letter reasons", 1)[1]
    named = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert named == {reason.value for reason in DeadLetterReason} | {"max_receive_count"}


def test_the_errors_page_lists_every_actions_api_error() -> None:
    from functions.api import errors

    rendered = generator().render("<!-- generated: api-errors -->")
    for kind in (errors.UnknownHook, errors.DuplicateAction, errors.ServiceUnavailable):
        assert f"| `{kind.status_code}` | `{kind.error}` |" in rendered


def _tests_figures(**changes: object) -> dict:
    figures = {
        "measured_at": "2026-12-01T03:00:00+00:00",
        "commit": "abc1234",
        "machine": "2 cores, x86_64, Python 3.11.7",
        "suites": {
            "tests/unit": {"passed": 900, "failed": 1, "skipped": 2, "seconds": 61.5},
            "tests/infra": {"passed": 111, "failed": 0, "skipped": 0, "seconds": 15.2},
        },
        "total": {"passed": 1011, "failed": 1, "skipped": 2, "seconds": 80.0},
        "make_test_seconds": 1257,
        "clean_clone": True,
    }
    return {**figures, **changes}


def test_the_figures_page_renders_the_test_suites_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = generator()
    monkeypatch.setattr(generate, "FIGURES", tmp_path)
    (tmp_path / "tests.json").write_text(json.dumps(_tests_figures()))
    rendered = generate.render("<!-- generated: tests -->")
    assert "Measured 2026-12-01T03:00:00+00:00 on commit `abc1234`, 2 cores" in rendered
    assert "1,014 tests, 1 failed, 1 min 20 s of pytest" in rendered
    assert "20 min 57 s of `make test` in all from a clean clone, set-up included" in rendered
    assert "| `tests/unit` | 900 | 1 | 2 | 1 min 2 s |" in rendered
    assert "| `tests/infra` | 111 | 0 | 0 | 15.2 s |" in rendered
    assert "| all | 1,011 | 1 | 2 | 1 min 20 s |" in rendered
    assert "Not in this run: `tests/bench`, `tests/integration`, `tests/local`." in rendered


def test_the_committed_test_suites_figures_render() -> None:
    rendered = generator().render("<!-- generated: tests -->")
    figures = json.loads((DOCS / "figures/tests.json").read_text())
    assert f"on commit `{figures['commit']}`" in rendered
    for suite in figures["suites"]:
        assert f"| `{suite}` |" in rendered


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "docs/figures/tests.json is missing: `make figures-tests` writes it"),
        ("{not json", "docs/figures/tests.json is not JSON"),
        (json.dumps([1]), "an object expected"),
        (json.dumps(_tests_figures(suites={})), "missing ['suites']"),
        (json.dumps({"commit": "x"}), "missing ['measured_at', 'machine', 'suites', 'total']"),
        (json.dumps(_tests_figures(total={"passed": 1})), "total needs the numbers"),
        (
            json.dumps(_tests_figures(suites={"tests/unit": {"passed": "900"}})),
            "suite tests/unit needs the numbers",
        ),
    ],
)
def test_missing_or_malformed_test_suites_figures_fail_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, says: str
) -> None:
    from mkdocs.exceptions import PluginError

    generate = generator()
    monkeypatch.setattr(generate, "FIGURES", tmp_path)
    if content is not None:
        (tmp_path / "tests.json").write_text(content)
    with pytest.raises(PluginError) as refused:
        generate.on_page_markdown("# Figures\n\n<!-- generated: tests -->\n")
    assert says in str(refused.value)
