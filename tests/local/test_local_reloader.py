"""Hot reload: the watcher sees added, changed and removed files, and only those."""

from __future__ import annotations

import os

from infra.local.reloader import CodeWatcher, changed, snapshot


def _touch(path, mtime: float) -> None:
    path.write_text("x = 1\n")
    os.utime(path, (mtime, mtime))


def test_snapshot_lists_python_files_only(tmp_path):
    (tmp_path / "pkg").mkdir()
    _touch(tmp_path / "pkg" / "a.py", 1000)
    (tmp_path / "pkg" / "notes.txt").write_text("no")

    assert snapshot([tmp_path]) == {tmp_path / "pkg" / "a.py": 1000}


def test_changed_names_added_modified_and_removed_files(tmp_path):
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"

    assert changed({a: 1, b: 1}, {a: 1, b: 2, c: 1}) == [b, c]
    assert changed({a: 1, b: 1}, {a: 1}) == [b]
    assert changed({a: 1}, {a: 1}) == []


def test_the_watcher_calls_back_once_per_change(tmp_path):
    _touch(tmp_path / "hook.py", 1000)
    seen: list[list] = []
    watcher = CodeWatcher([tmp_path], seen.append)

    assert watcher.check() == []
    _touch(tmp_path / "hook.py", 2000)
    assert watcher.check() == [tmp_path / "hook.py"]
    assert watcher.check() == []

    assert seen == [[tmp_path / "hook.py"]]
