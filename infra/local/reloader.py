"""Hot reload for the local cloud: when a Python file of the functions changes, the
next invocation of every function is a cold start with the new code.

``CodeWatcher`` polls modification times and calls ``on_change``; the local cloud
answers with ``ProcessRuntime.reload()``. What is in moto is kept, module state is not,
as on a new deployment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

Snapshot = dict[Path, float]


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Every ``.py`` file under ``roots`` with its modification time."""
    found: Snapshot = {}
    for root in roots:
        for path in Path(root).rglob("*.py"):
            try:
                found[path] = path.stat().st_mtime
            except FileNotFoundError:  # removed between listing and stat
                continue
    return found


def changed(before: Snapshot, after: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots, sorted."""
    paths = set(before) | set(after)
    return sorted(p for p in paths if before.get(p) != after.get(p))


class CodeWatcher:
    def __init__(
        self,
        roots: Iterable[Path],
        on_change: Callable[[list[Path]], None],
        *,
        interval: float = 1.0,
    ) -> None:
        self._roots = [Path(root) for root in roots]
        self._on_change = on_change
        self._interval = interval
        self._stop = threading.Event()
        self._last = snapshot(self._roots)
        self._thread = threading.Thread(target=self._run, name="code-watcher", daemon=True)

    def check(self) -> list[Path]:
        """Compare with the last look; call ``on_change`` if anything changed."""
        now = snapshot(self._roots)
        paths = changed(self._last, now)
        self._last = now
        if paths:
            self._on_change(paths)
        return paths

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._interval + 1)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check()
