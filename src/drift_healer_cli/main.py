"""drift-healer: run the healing workflow on this machine.

drift-healer demo                      the whole job in the embedded sandbox
drift-healer heal STACK [flags]        the same durable workflow against AWS (or --sandbox)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drift-healer", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="heal a drifted demo stack in the embedded sandbox")
    heal = commands.add_parser("heal", help="heal one stack with the local durable runner")
    heal.add_argument("stack", help="stack name or ARN")
    mode = heal.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="detect and report; create nothing")
    mode.add_argument(
        "--create-change-set-only", action="store_true", help="stop once the change set exists"
    )
    heal.add_argument("--region", help="region of the stack (default: your AWS config)")
    heal.add_argument("--profile", help="AWS profile to use")
    heal.add_argument(
        "--sandbox",
        action="store_true",
        help="use the embedded sandbox (a drifted demo stack named STACK is created first)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from drift_healer_cli import demo

        return demo.run()
    from drift_healer_cli import heal as heal_command

    return heal_command.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
