"""`archsim config show CONFIG`: print the resolved, validated config (units written out)."""
from __future__ import annotations

import argparse

from archsim.commands._common import add_config_args, load_design, write_json


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("config", help="inspect configurations (show the resolved config)")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = csub.add_parser("show", help="print the resolved config after defaults and --set overrides")
    add_config_args(show)
    show.add_argument("--json", action="store_true", help="JSON instead of YAML")
    return p


def main(args) -> int:
    import yaml

    design = load_design(args)
    data = design.model_dump(mode="json")
    if args.json:
        write_json(data, "-")
    else:
        print(f"# resolved from {design.source}")
        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return 0
