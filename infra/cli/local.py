"""``actionsctl local up``: the local cloud, as ``make run`` starts it.

The same as ``python -m infra.local.cloud`` (``-c KEY=VALUE`` as ``npx cdk synth`` takes
it): the synthesized stack on moto's server on
127.0.0.1, each function in processes of its own, the API served, schedules fired; it runs
in the foreground, prints the live log, and stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    local = commands.add_parser("local", help="the local cloud on this machine (moto)")
    sub = local.add_subparsers(dest="local_command", required=True)
    up = sub.add_parser(
        "up",
        help="run the whole stack locally, on moto, until Ctrl-C",
        description=(
            "Synthesize the stack and run it on this machine: AWS (moto) on "
            "127.0.0.1:--aws-port, the webhook API on 127.0.0.1:--api-port. Set "
            "LOCAL_LOG=json for the functions' raw JSON logs, LOCAL_RELOAD=0 to turn "
            "hot reload off."
        ),
    )
    up.add_argument(
        "--api-port", type=int, default=None, help="the API's port ($LOCAL_API_PORT or 8000)"
    )
    up.add_argument(
        "--aws-port", type=int, default=None, help="moto's port ($LOCAL_AWS_PORT or 4566)"
    )
    up.add_argument(
        "-c",
        "--context",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="CDK context over cdk.json's and cdk.context.json's, as `npx cdk synth -c` takes it",
    )
    # The live log is the point of this command: the functions' logs are not quieted.
    up.set_defaults(handler=_up, quiet_functions=False)


def _up(args: argparse.Namespace) -> int:
    from infra.local.cloud import main as run_local_cloud

    pairs = [item for assignment in args.context for item in ("-c", assignment)]
    run_local_cloud(api_port=args.api_port, aws_port=args.aws_port, context_arguments=pairs)
    return 0
