"""``actionsctl``: the operator's command line. Subcommands are added per feature.

Each feature module adds its subcommands with ``add_parser(commands, common)``;
a command's handler returns the exit code. Expected errors (missing
configuration, an unknown queue, AWS refusing a call) print one line to stderr
and exit 1; usage errors and refusals exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from infra.cli import action, actions, dlq, health, hooks, local, saga, schedule, webhook
from infra.cli.errors import CliError

FEATURES = (dlq, action, actions, schedule, saga, webhook, health, local, hooks)
# The exit status of a command whose reader went away (128 + SIGPIPE), as a shell's.
CLOSED_PIPE = 141
DESCRIPTION = "The operator's command line for the action scheduler, on AWS or the local cloud."


def build_parser() -> argparse.ArgumentParser:
    stack_help = (
        "read the configuration (JOB_QUEUES, ACTIONS_TABLE_NAME, the scheduler's group, "
        "role and dead-letter queue) from this CloudFormation stack's outputs (without "
        "it: the environment if JOB_QUEUES and ACTIONS_TABLE_NAME are set, else the "
        "stack named by ACTION_SCHEDULER_STACK, else ActionScheduler)"
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
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader (``| head``) has gone: stop quietly. Python would report the
        # failed flush of what is still buffered at exit; send that nowhere instead.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from functions.stack import StackUnavailable, unreachable

    try:
        from functions.actions.exceptions import ActionError

        if not getattr(args, "quiet_functions", True):
            code = int(args.handler(args) or 0)
        else:
            with _quiet_function_logs():
                code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except (CliError, StackUnavailable) as exc:
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
        return _fail(f"cannot reach AWS: {unreachable(exc)}")
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
