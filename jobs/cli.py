"""The `jwc` command line. Every subcommand is a thin wrapper over a function usable from Python."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

EXIT_USAGE = 2


def _cmd_nightly(a: argparse.Namespace) -> int:
    from jobs.nightly import nightly

    results = nightly(a.crawl_id, a.input, a.store, a.config, a.master, a.restart)
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0


def _cmd_extract(a: argparse.Namespace) -> int:
    from jobs.extract import run_extract
    from pipeline import config as config_mod
    from pipeline.inputs import resolve_inputs
    from pipeline.spark import get_session

    cfg = config_mod.load(a.config)
    spark = get_session("jwc-extract", master=a.master or cfg["spark"]["master"] or None)
    files = resolve_inputs(spark, a.input)
    counts = run_extract(spark, files, a.output, cfg, a.crawl_id)
    print(json.dumps(counts, indent=2, sort_keys=True))
    return 0


def _cmd_sample(a: argparse.Namespace) -> int:
    from pipeline.sample.generate import generate_sample

    summary = generate_sample(a.output, records=a.records, seed=a.seed)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def _cmd_config(a: argparse.Namespace) -> int:
    from pipeline import config as config_mod

    if a.action == "defaults":
        print(config_mod.describe())
        return 0
    cfg = config_mod.load(a.file)
    print(f"config OK: {a.file or '(defaults)'} digest {cfg.digest()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jwc", description="Japanese web-corpus curation pipeline (PySpark).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=fn)
        return sp

    n = add("nightly", _cmd_nightly, "Run every stage for one crawl into the dataset store.")
    n.add_argument("--crawl-id", required=True, help="crawl id, e.g. CC-MAIN-2026-48 (names the run folder)")
    n.add_argument("--input", action="append", required=True, metavar="PATH_OR_GLOB",
                   help="WARC file, folder or glob (local, file:, hdfs:, s3a: ...); repeatable")
    n.add_argument("--store", required=True, help="dataset store folder (created when missing or empty)")
    n.add_argument("--config", help="TOML config file (see `jwc config defaults`)")
    n.add_argument("--master", help="Spark master (default: spark-submit's, else local[*])")
    n.add_argument("--restart", action="store_true",
                   help="discard an unfinished run of this crawl that used other inputs or another config")

    e = add("extract", _cmd_extract, "Run the extract stage alone: WARC files -> Parquet records.")
    e.add_argument("--input", action="append", required=True, metavar="PATH_OR_GLOB")
    e.add_argument("--output", required=True, help="output folder (records/ and counts.json)")
    e.add_argument("--crawl-id", default="adhoc")
    e.add_argument("--config")
    e.add_argument("--master")

    s = add("sample", _cmd_sample, "Write the bundled sample crawl (a small WARC with its truth file).")
    s.add_argument("output", help="output .warc.gz path")
    s.add_argument("--records", type=int, default=300)
    s.add_argument("--seed", type=int, default=0)

    c = add("config", _cmd_config, "Print the documented defaults, or check a config file.")
    c.add_argument("action", choices=("defaults", "check"))
    c.add_argument("file", nargs="?")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: clear one-line errors and non-zero exits for every refusal, no stack traces."""
    from pipeline.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"jwc {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
