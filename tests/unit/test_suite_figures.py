"""The test-suite figures plugin (tests/suite_figures.py) over a tiny suite of its own,
run in-process by pytester: what it writes is what the run counted, suite by suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import suite_figures

pytest_plugins = ["pytester"]

FAKE_SUITE = {
    "tests/unit/test_a.py": """
import pytest

def test_one(): pass
def test_two(): pass
def test_fails(): assert False
@pytest.mark.skip(reason="not here")
def test_skipped(): pass
@pytest.mark.xfail(reason="known")
def test_expected_failure(): assert False
""",
    "tests/unit/test_b.py": """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("set-up fails")

def test_setup_error(broken): pass
@pytest.mark.parametrize("n", [1, 2, 3])
def test_many(n): pass
""",
    "tests/infra/test_c.py": """
import pytest

def test_one(): pass
def test_skips_itself(): pytest.skip("no synth here")
""",
}


@pytest.fixture
def fake_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    for name, source in FAKE_SUITE.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return pytester


def test_the_plugin_writes_each_suites_counts_and_the_total(
    fake_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(suite_figures.ENVIRONMENT, "out/tests.json")
    result = fake_suite.runpytest("-p", "tests.suite_figures")
    result.assert_outcomes(passed=6, failed=1, skipped=2, xfailed=1, errors=1)
    figures = json.loads((fake_suite.path / "out/tests.json").read_text())
    counts = {
        suite: {outcome: row[outcome] for outcome in suite_figures.OUTCOMES}
        for suite, row in figures["suites"].items()
    }
    assert counts == {
        "tests/infra": {"passed": 1, "failed": 0, "skipped": 1},
        "tests/unit": {"passed": 5, "failed": 2, "skipped": 2},
    }
    assert {k: figures["total"][k] for k in suite_figures.OUTCOMES} == {
        "passed": 6,
        "failed": 2,
        "skipped": 3,
    }
    assert figures["exit_status"] == 1
    assert all(row["seconds"] >= 0 for row in figures["suites"].values())
    assert figures["total"]["seconds"] >= max(r["seconds"] for r in figures["suites"].values())
    assert set(figures) >= {"measured_at", "commit", "machine"}
    assert "cores" in figures["machine"]
    result.stdout.fnmatch_lines(["*test figures written to*tests.json*"])


def test_without_the_variable_nothing_is_written(
    fake_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(suite_figures.ENVIRONMENT, raising=False)
    fake_suite.runpytest("-p", "tests.suite_figures").assert_outcomes(
        passed=6, failed=1, skipped=2, xfailed=1, errors=1
    )
    assert not list(fake_suite.path.rglob("*.json"))


def test_a_module_that_does_not_import_counts_as_a_failure_of_its_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "tests/local").mkdir(parents=True)
    (pytester.path / "tests/local/test_broken.py").write_text("import no_such_module\n")
    monkeypatch.setenv(suite_figures.ENVIRONMENT, "tests.json")
    pytester.runpytest("-p", "tests.suite_figures")
    figures = json.loads((pytester.path / "tests.json").read_text())
    assert figures["suites"]["tests/local"]["failed"] == 1
    assert figures["total"]["failed"] == 1


def test_make_adds_the_whole_runs_seconds(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "tests.json"
    path.write_text(json.dumps({"total": {"passed": 2, "failed": 0, "skipped": 1, "seconds": 3.5}}))
    suite_figures.main([str(path), "--make-seconds", "12", "--clean-clone", "true"])
    written = json.loads(path.read_text())
    assert written["make_test_seconds"] == 12 and written["clean_clone"] is True
    assert "3 tests (0 failed), 3.5 s of pytest, 12 s of make test" in capsys.readouterr().out


def test_a_suite_is_the_first_folder_under_tests(tmp_path: Path) -> None:
    assert suite_figures.suite_of(tmp_path / "tests/unit/x/test_a.py", tmp_path) == "tests/unit"
    assert suite_figures.suite_of(tmp_path / "other/test_a.py", tmp_path) == "other"
    assert suite_figures.suite_of(tmp_path / "test_a.py", tmp_path) == "."
