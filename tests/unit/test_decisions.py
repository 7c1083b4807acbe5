"""The decision records in docs/decisions/: their form, their numbering, their index, and
every reference to them from the code, the README, the docs and each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = ROOT / "docs" / "decisions"
RECORD_NAME = re.compile(r"^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
SECTIONS = ("Status", "Context", "Decision", "Consequences")
# A path from the repository's root, or a record named by its file alone (records link
# to each other that way).
REFERENCE = re.compile(r"docs/decisions/(?:[\w.-]*\w)?|(?<![\w/-])\d{4}-[a-z0-9-]+\.md")
SOURCES = ("functions", "infra", "tests")


def records() -> list[Path]:
    return sorted(p for p in DECISIONS.glob("*.md") if p.name != "README.md")


def form_errors(text: str) -> list[str]:
    """What a record lacks: its numbered title, then each of the four sections."""
    lines = text.splitlines()
    errors = [] if lines and re.match(r"^# \d{4}\. \S", lines[0]) else ["title"]
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    errors += [f"## {name}" for name in SECTIONS if name not in headings]
    present = [h for h in headings if h in SECTIONS]
    if present != [name for name in SECTIONS if name in present]:
        errors.append("sections out of order")
    return errors


def referencing_files() -> list[Path]:
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    for folder in SOURCES:
        files += (ROOT / folder).rglob("*.py")
    return [path for path in files if path != Path(__file__)]  # its own are made up


def missing_references(text: str) -> list[str]:
    missing = []
    for found in REFERENCE.findall(text):
        path = ROOT / found if found.startswith("docs/") else DECISIONS / found
        if not path.exists():
            missing.append(found)
    return missing


def test_there_are_records_and_an_index() -> None:
    assert records()
    assert (DECISIONS / "README.md").is_file()


@pytest.mark.parametrize("record", records(), ids=lambda p: p.name)
def test_each_record_has_its_name_title_and_four_sections(record: Path) -> None:
    assert RECORD_NAME.match(record.name), "name it NNNN-kebab-title.md"
    text = record.read_text(encoding="utf-8")
    assert form_errors(text) == []
    assert text.startswith(f"# {record.name[:4]}. "), "the title carries the file's number"


def test_numbers_are_unique_and_consecutive_from_one() -> None:
    numbers = [int(p.name[:4]) for p in records()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_index_links_every_record_and_nothing_else() -> None:
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((\d{4}-[^)]+\.md)\)", index))
    assert linked == {p.name for p in records()}


def test_every_reference_to_a_record_exists() -> None:
    missing = {
        str(path.relative_to(ROOT)): found
        for path in referencing_files()
        if (found := missing_references(path.read_text(encoding="utf-8")))
    }
    assert missing == {}


def test_the_checks_catch_what_they_are_for() -> None:
    assert form_errors("# 0001. A title\n\n## Status\n\n## Decision\n") == [
        "## Context",
        "## Consequences",
    ]
    assert form_errors("Title\n## Status\n## Context\n## Decision\n## Consequences\n") == ["title"]
    assert missing_references("Why: docs/decisions/9999-no-such-decision.md, and") == [
        "docs/decisions/9999-no-such-decision.md"
    ]
    assert form_errors("# 0001. T\n## Context\n## Status\n## Decision\n## Consequences") == [
        "sections out of order"
    ]
    assert missing_references("see 0001-record-architecture-decisions.md.") == []
