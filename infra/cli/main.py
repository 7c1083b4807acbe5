"""``actionsctl``: the operator's command line. Subcommands are added per feature.

Each feature module adds its subcommands with ``add_parser(commands, common)``;
a command's handler returns the exit code. Expected errors (missing
configuration, an unknown queue, AWS refusing a call) print one line to stderr
and exit 1; usage errors and refusals exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from infra.cli import action, actions, dlq, health, local, saga, schedule, webhook
from infra.cli.errors import CliError

FEATURES = (dlq, action, actions, schedule, saga, webhook, health, local)
DESCRIPTION = "The operator's command line for the action scheduler, on AWS or the local cloud."


def build_parser() -> argparse.ArgumentParser:
    stack_help = (
        "read the configuration (JOB_QUEUES, ACTIONS_TABLE_NAME, the scheduler's group, "
        "role and dead-letter queue) from this CloudFormation stack's outputs (without "
        "it: the environment if JOB_QUEUES and ACTIONS_TABLE_NAME are set, else the "
        "stack named by ACTIONS_STACK, else ActionScheduler)"
    )
    parser = argparse.ArgumentParser(prog="actionsctl", description=DESCRIPTION)
    parser.add_argument("--stack", metavar="NAME", default=None, help=stack_help)
    # Also accepted after the subcommand; there it does not override one given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", metavar="NAME", default=argparse.SUPPRESS, help=stack_help)
    commands = parser.add_subparsers(dest="command", required=True)
    for feature in FEATURES:
        feature.add_parser(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # The hooks register themselves; the actions package expects them known.
        import functions.hooks  # noqa: F401
        from functions.actions.exceptions import ActionError

        if not getattr(args, "quiet_functions", True):
            return int(args.handler(args) or 0)
        with _quiet_function_logs():
            return int(args.handler(args) or 0)
    except CliError as exc:
        return _fail(str(exc))
    except ActionError as exc:
        return _fail(str(exc))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "")
        return _fail(
            f"AWS refused {operation}: {error.get('Code', '')}: {error.get('Message', exc)}"
        )
    except BotoCoreError as exc:
        return _fail(f"cannot reach AWS: {exc}")
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)


@contextmanager
def _quiet_function_logs() -> Iterator[None]:
    """The functions log each action they schedule or cancel as JSON on stdout, as in
    Lambda; on the operator's terminal that would bury the output. Warnings still show.
    """
    from functions.observability import logger

    functions_logger = logging.getLogger(logger.name)
    level = functions_logger.level
    functions_logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        functions_logger.setLevel(level)


def _fail(message: str, code: int = 1) -> int:
    print(f"actionsctl: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
