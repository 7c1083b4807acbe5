"""``actionsctl hooks list``: the hooks, with the queue, priority, attempts and circuit of each.

With a stack named (``--stack`` or ``ACTION_SCHEDULER_STACK``) the hooks are those the
stack's worker runs, hook packages included, as its actions API answers them (``GET
/hooks``, the manifest written at synth); nothing is imported here. Without one, those this
checkout imports (``functions.hooks``, then ``ACTION_HOOK_MODULES``). Each circuit's state
is read from the stack's circuits table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from functions.text import counted
from infra.cli.output import table
from infra.cli.settings import configure


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    hooks = commands.add_parser("hooks", help="hooks: list them")
    sub = hooks.add_subparsers(dest="hooks_command", required=True)
    listing = sub.add_parser(
        "list",
        parents=[common],
        help="each hook's queue, priority, attempts and circuit",
        description=(
            "List the hooks the stack's worker runs (its hook packages included, as its "
            "actions API answers them; without a stack, those this checkout imports) with "
            "the queue each runs on, its priority, its attempts and backoff, and the circuit "
            "that guards it with that circuit's state now. --json adds the rest of each "
            "hook's policy (timeout, ordered, unique_by, max_failed_runs, listed_while_queued)."
        ),
    )
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(handler=list_command)


def list_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    from functions.actions import circuit, hooks
    from functions.actions.config import circuits_table

    specs = sorted(hooks.registered().values(), key=lambda spec: spec.name)
    names = sorted({spec.circuit for spec in specs if spec.circuit})
    states = {name: _state(circuit.state(name)) for name in names} if circuits_table() else {}
    if args.json:
        for spec in specs:
            document = {
                "hook": spec.name,
                "queue": spec.queue,
                "priority": spec.priority,
                "max_attempts": spec.max_attempts,
                "base_delay": spec.base_delay,
                "max_delay": spec.max_delay,
                "circuit": spec.circuit,
                "circuit_state": states.get(spec.circuit) if spec.circuit else None,
                "timeout": spec.timeout,
                "ordered": spec.ordered,
                "unique_by": spec.unique_by,
                "max_failed_runs": spec.max_failed_runs,
                "listed_while_queued": spec.listed_while_queued,
            }
            print(json.dumps(document, sort_keys=True))
        return 0
    rows = [
        [
            spec.name,
            spec.queue,
            spec.priority,
            str(spec.max_attempts),
            f"{spec.base_delay:g}-{spec.max_delay:g} s",
            f"{spec.circuit} ({states.get(spec.circuit, 'state unknown')})"
            if spec.circuit
            else "-",
        ]
        for spec in specs
    ]
    print(table(["HOOK", "QUEUE", "PRIORITY", "ATTEMPTS", "BACKOFF", "CIRCUIT"], rows))
    print(f"\n{counted(len(specs), 'hook')}")
    return 0


def _state(item: dict[str, Any]) -> str:
    """A circuit's state; one that never failed has no item yet, and is closed."""
    return str(item.get("state") or "closed")
