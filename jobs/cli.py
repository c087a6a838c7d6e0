"""The `jwc` command line. Every subcommand is a thin wrapper over a function usable from Python."""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:  # pyspark and the config load only when a command needs them: `jwc --help` stays fast
    from pyspark.sql import SparkSession

    from jwc.pipeline.config import Config
    from jwc.pipeline.io.lock import StoreLock

EXIT_USAGE = 2
EXIT_DRIFT = 3  # `jwc report`: drift from the parent version and fail_on_drift is set
BREAK_LOCK_HELP = ("take the store's locks (run folder, dataset) even when another process holds them; only for a "
                   "holder known to be dead (a dead holder on this host, or silent for [store] lock_stale_seconds, "
                   "is taken over without it)")


def _cmd_nightly(a: argparse.Namespace) -> int:
    from jwc.jobs.nightly import nightly

    conf = _spark_conf(a)
    results = nightly(a.crawl_id, a.input or [], a.store, a.config, a.master, a.restart,
                      input_lists=a.input_list or [], prefix=a.prefix, source=a.source, index=a.index,
                      cc_base=a.cc_base, only_failed=a.only_failed, allow_failed=a.allow_failed,
                      break_lock=a.break_lock, spark_conf=conf, work=a.work)
    if a.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    return EXIT_DRIFT if results.get("report", {}).get("drift_alarm") else 0


def _cmd_extract(a: argparse.Namespace) -> int:
    from jwc.jobs.extract import extract_command, print_extract_summary
    from jwc.pipeline import config as config_mod

    cfg = config_mod.load(a.config)
    spark = _session("jwc-extract", cfg, a)
    counts = extract_command(spark, cfg, a.output, a.crawl_id, a.input or [], a.input_list or [], a.prefix,
                             a.source, a.index, a.cc_base, a.only_failed)
    print_extract_summary(counts, a.output)
    if a.json:
        print(json.dumps(counts, indent=2, sort_keys=True))
    return 0


def _spark_conf(a: argparse.Namespace) -> dict[str, str]:
    """`--conf KEY=VALUE` flags as a dict; a malformed one is refused before any work."""
    from jwc.pipeline.errors import UserError

    out = {}
    for item in a.conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--conf expects KEY=VALUE (e.g. spark.sql.shuffle.partitions=400), got {item!r}")
        out[key.strip()] = value
    return out


def _session(app: str, cfg: Config, a: argparse.Namespace) -> SparkSession:
    """The command's Spark session: `--conf` and `--master` over the config's [spark] keys over spark-submit's."""
    from jwc.pipeline.spark import session_for

    return session_for(app, cfg["spark"], a.master, _spark_conf(a))


def _cmd_sample(a: argparse.Namespace) -> int:
    from jwc.pipeline.sample.generate import generate_sample

    summary = generate_sample(a.output, records=a.records, seed=a.seed)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def _cmd_train_classifier(a: argparse.Namespace) -> int:
    from jwc.filters.classifier import train_classifier
    from jwc.pipeline.errors import UserError

    if not Path(a.data).is_file():
        raise UserError(f"training data not found: {a.data}")
    report = train_classifier(a.data, a.output, label_field=a.label_field, text_field=a.text_field,
                              valid_fraction=a.valid_fraction, seed=a.seed, epoch=a.epochs)
    print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


def _cmd_redecide(a: argparse.Namespace) -> int:
    from jwc.jobs.filter import redecide
    from jwc.pipeline import config as config_mod

    cfg = config_mod.load(a.config)
    spark = _session("jwc-redecide", cfg, a)
    print(json.dumps(redecide(spark, a.filtered, cfg, a.output), indent=2, sort_keys=True))
    return 0


def _cmd_config(a: argparse.Namespace) -> int:
    from jwc.pipeline import config as config_mod

    if a.action == "defaults":
        print(config_mod.describe())
        return 0
    cfg = config_mod.load(a.file)
    print(f"config OK: {a.file or '(defaults)'} digest {cfg.digest()}")
    return 0


def _store_given(a: argparse.Namespace) -> str:
    """--store (or $JWC_STORE), refused in one line when given empty (`--store ""`)."""
    from jwc.pipeline.errors import UserError

    if not a.store:
        raise UserError("no store given: pass --store DIR or set $JWC_STORE")
    return a.store


def _dataset_name(a: argparse.Namespace, cfg: "Config") -> str:
    """--dataset, else the config's [run] dataset: the one rule every store command names its dataset by."""
    return a.dataset or cfg["run"]["dataset"]


def _dataset_dir(a: argparse.Namespace, create: bool = False) -> Path:
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.io.store import Store

    store = _store_given(a)
    name = _dataset_name(a, config_mod.load(a.config))
    return Store.open(store, create=create).dataset_dir(name)


def _print_chain(rows: list[dict]) -> None:
    print(f"{'version':<8} {'parent':<8} {'new documents':>14} {'new tokens':>14} {'dataset documents':>18} "
          f"{'dataset tokens':>15}  crawls")
    for r in rows:
        print(f"{r['version']:<8} {r['parent'] or '-':<8} {r['documents']:>14,} {r['tokens']:>14,} "
              f"{r['cumulative_documents']:>18,} {r['cumulative_tokens']:>15,}  {','.join(r['crawl_ids'])}")


def _print_train_args(args: dict) -> None:
    import shlex

    print("# Megatron-LM (pretrain_gpt.py): every shard of the chain, weighted by its tokens")
    print(" ".join(shlex.quote(x) for x in args["megatron"]))
    print("# NeMo (megatron_gpt_pretraining): model.data.data_prefix and tokenizer")
    for key, value in args["nemo"].items():
        print(f"{key}={json.dumps(value, ensure_ascii=False)}")
    print(f"# {args['documents']:,} documents, {args['tokens']:,} tokens; vocabulary {args['vocab_size']:,}, "
          f"eos id {args['eos_id']} (ends every document: {args['append_eos']})")


def _cmd_versions_verify(a: argparse.Namespace) -> int:
    from jwc.pipeline.errors import UserError

    if a.path:
        folder = Path(a.path)
    elif a.store:
        folder = _dataset_dir(a) / "versions" / a.ids[0]
    else:
        raise UserError("versions verify needs --store (the published version) or --path (a copy)")
    return _verify_and_print(a.ids[0], folder, str(folder))


def _verify_and_print(version: str, folder: Path, shown: str) -> int:
    """Re-hash a version folder against its manifest; one line, and a FAILED line per problem. `shown` names where
    the version is for people (the Hadoop URI of a version checked through a downloaded copy)."""
    from jwc.pipeline.errors import UserError
    from jwc.pipeline.versions.verify import verify_folder

    result = verify_folder(folder)
    if result["version"] != version:
        raise UserError(f"{shown} holds {result['dataset']} {result['version']}, not {version}")
    for problem in result["problems"]:
        print(f"FAILED {problem}", file=sys.stderr)
    status = "OK" if result["ok"] else f"FAILED ({len(result['problems'])} problem(s))"
    print(f"{result['dataset']} {result['version']} at {shown}: {result['files']} files, {result['bytes']:,} bytes: "
          f"{status}")
    return 0 if result["ok"] else 1


def _cmd_versions_hadoop(a: argparse.Namespace, cfg: "Config", uri: str) -> int:
    """Every `versions` action on a store on a Hadoop file system: the manifests (for verify, the whole version) are
    copied into a temporary folder through Hadoop's FileSystem API and read there with the same checks as a local
    store's; diff's Spark reads the shards where they are."""
    import tempfile

    from jwc.pipeline.errors import UserError
    from jwc.pipeline.io.hadoop import HadoopFS
    from jwc.pipeline.io.store import SharedStore
    from jwc.pipeline.versions.shared import download_version, pull_published

    if a.action == "train-args" and not a.root:
        raise UserError(f"versions train-args on {uri}: Megatron-LM and NeMo read the token files from a local or "
                        "mounted folder: copy the versions out (hdfs dfs -get .../versions DIR) and give --root DIR")
    shared = SharedStore.open(HadoopFS(_session("jwc-versions", cfg, a), uri), create=False)
    dataset = _dataset_name(a, cfg)
    with tempfile.TemporaryDirectory(prefix="jwc-versions-") as tmp:
        if a.action == "verify":
            folder = download_version(shared, dataset, a.ids[0], Path(tmp) / a.ids[0])
            where = shared.fs.uri(f"{shared.dataset(dataset)}/versions/{a.ids[0]}")
            return _verify_and_print(a.ids[0], folder, where)
        dataset_dir = Path(tmp) / dataset
        pull_published(shared, dataset, dataset_dir, stats=False)
        return _versions_read(a, dataset_dir, shared.fs.uri(f"{shared.dataset(dataset)}/versions"))


def _cmd_versions(a: argparse.Namespace) -> int:
    from jwc.pipeline.errors import UserError

    wanted = {"list": 0, "show": 1, "diff": 2, "verify": 1, "chain": (0, 1), "resolve": (0, 1),
              "train-args": (0, 1)}[a.action]
    if len(a.ids) not in (wanted if isinstance(wanted, tuple) else (wanted,)):
        raise UserError(f"versions {a.action} takes {wanted} version id(s), got {len(a.ids)}")
    if a.store and not (a.action == "verify" and a.path):
        from jwc.pipeline import config as config_mod
        from jwc.pipeline.io.store import store_location

        cfg = config_mod.load(a.config)
        location = store_location(a.store, cfg["store"]["api"])
        if location.uri is not None:
            return _cmd_versions_hadoop(a, cfg, location.uri)
    if a.action == "verify":
        return _cmd_versions_verify(a)
    if not a.store:
        raise UserError(f"versions {a.action} needs --store")
    return _versions_read(a, _dataset_dir(a))


def _versions_read(a: argparse.Namespace, dataset_dir: Path, versions_uri: str | None = None) -> int:
    """Every `jwc versions` action but verify, on a local dataset folder (for a Hadoop store: its manifests, copied
    out; `versions_uri` is where its versions are: what resolve lists without --root, where diff reads shards)."""
    from jwc.pipeline.errors import UserError
    from jwc.pipeline.versions.chain import chain_view, resolve_dataset, training_args
    from jwc.pipeline.versions.diff import diff_versions
    from jwc.pipeline.versions.ids import latest_version
    from jwc.pipeline.versions.manifest import list_versions, read_manifest

    if a.action in ("chain", "resolve", "train-args"):
        version = a.ids[0] if a.ids else latest_version(dataset_dir)
        if version is None:
            raise UserError(f"dataset {dataset_dir.name} has no published version")
        root = Path(a.root) if a.root else versions_uri
        if a.action == "chain":
            rows = chain_view(dataset_dir, version)
            print(json.dumps(rows, indent=2, ensure_ascii=False)) if a.json else _print_chain(rows)
        elif a.action == "resolve":
            print(json.dumps(resolve_dataset(dataset_dir, version, root), indent=2, ensure_ascii=False))
        else:
            args = training_args(resolve_dataset(dataset_dir, version, root))
            print(json.dumps(args, indent=2, ensure_ascii=False)) if a.json else _print_train_args(args)
        return 0
    if a.action == "list":
        rows = list_versions(dataset_dir)
        if a.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return 0
        print(f"{'version':<8} {'created':<20} {'parent':<8} {'documents':>11} {'tokens':>14} {'shards':>6}  crawls")
        for r in rows:
            print(f"{r['version']:<8} {r['created']:<20} {r['parent'] or '-':<8} {r['documents']:>11,} "
                  f"{r['tokens']:>14,} {r['shards']:>6}  {','.join(r['crawl_ids'])}")
        return 0
    if a.action == "show":
        print(json.dumps(read_manifest(dataset_dir, a.ids[0]), indent=2, ensure_ascii=False))
        return 0
    from jwc.pipeline import config as config_mod

    spark = _session("jwc-versions", config_mod.load(a.config), a)
    diff = diff_versions(spark, dataset_dir, a.ids[0], a.ids[1], a.top_hosts, versions_uri)
    print(json.dumps(diff, indent=2, ensure_ascii=False))
    return 0


def _cmd_index(a: argparse.Namespace) -> int:
    """Show or compact the dataset's dedup index, in a local store or a Hadoop store (where compaction keeps the
    name node's file count down)."""
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.dedup import index as dedup_index
    from jwc.pipeline.errors import UserError
    from jwc.pipeline.io.store import SharedStore, Store, store_location

    cfg = config_mod.load(a.config)
    if a.action == "compact" and a.target_mb <= 0:
        raise UserError(f"--target-mb must be positive, got {a.target_mb}")
    dataset = _dataset_name(a, cfg)
    location = store_location(_store_given(a), cfg["store"]["api"])
    if location.uri is not None:
        from jwc.pipeline.io.hadoop import HadoopFS

        spark = _session("jwc-index", cfg, a)
        shared = SharedStore.open(HadoopFS(spark, location.uri), create=False)
        index, lock = shared.index_uri(dataset), shared.dataset_lock(dataset, "jwc index compact", cfg["store"])
        present = dedup_index.exists(spark, index)
        summarize = functools.partial(dedup_index.summary_spark, spark, index)
    else:
        store = Store.open(a.store, create=False)
        index, lock = store.index_dir(dataset), store.dataset_lock(dataset, "jwc index compact", cfg["store"])
        present = Path(index).is_dir()
        summarize = functools.partial(dedup_index.summary, index)
    if not present:
        raise UserError(f"dataset {dataset} has no dedup index yet (no version published)")
    if a.action == "compact":
        _compact(a, cfg, lock, index)
    rows = summarize()
    print(f"{'version':<12} {'rows':>12} {'files':>6} {'MB':>10}")
    for r in rows:
        print(f"{r['version']:<12} {r['rows']:>12,} {r['files']:>6} {r['bytes'] / 2**20:>10,.1f}")
    print(f"{'total':<12} {sum(r['rows'] for r in rows):>12,} {sum(r['files'] for r in rows):>6} "
          f"{sum(r['bytes'] for r in rows) / 2**20:>10,.1f}")
    return 0


def _compact(a: argparse.Namespace, cfg: "Config", lock: "StoreLock", index: str) -> None:
    """`jwc index compact` under the dataset's lock: first finish a compaction a crash interrupted, then compact."""
    from jwc.pipeline.dedup import index as dedup_index

    with lock.acquire(cfg["store"]["publish_wait_seconds"], a.break_lock):
        spark = _session("jwc-index", cfg, a)
        for action in dedup_index.recover(spark, index):
            print(f"recovered an interrupted compaction: {action}")
        done = dedup_index.compact_index(spark, index, int(a.target_mb * 2**20))
    for version, files in done.items():
        print(f"compacted {version}: {files} file(s)")
    if not done:
        print("nothing to compact: every version is already in as few files as its size needs")


def _cmd_train_tokenizer(a: argparse.Namespace) -> int:
    from jwc.jobs.tokenize import train_tokenizer
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.errors import UserError
    from jwc.pipeline.versions.ids import latest_version

    overrides = {"tokenize": {"vocab_size": a.vocab_size}} if a.vocab_size else None
    cfg = config_mod.load(a.config, overrides=overrides)
    dataset_dir = _dataset_dir(a, create=True)
    versions = a.version or []
    if not versions and not a.input:
        latest = latest_version(dataset_dir)
        if latest is None:
            raise UserError(f"dataset {dataset_dir.name} has no published version to train on: give --input")
        versions = [latest]
    missing = [p for p in a.input or [] if not Path(p).exists()]
    if missing:
        raise UserError(f"input not found: {', '.join(missing)}")
    spark = _session("jwc-train-tokenizer", cfg, a)
    info = train_tokenizer(spark, dataset_dir, versions, cfg["tokenize"], a.pin, a.input, a.text_field, a.toy)
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def _cmd_runs(a: argparse.Namespace) -> int:
    from jwc.jobs.cleanup import KEEP_STAGES, clean_runs
    from jwc.pipeline.io.store import Store

    report = clean_runs(Store.open(a.store, create=False).root / "runs", dry_run=a.dry_run)
    verb = "would remove" if a.dry_run else "removed"
    for r in report["runs"]:
        if not r["published"]:
            print(f"{r['run']}: not published, kept whole (resumable)")
        else:
            print(f"{r['run']}: {verb} {r['paths']} output(s), {r['bytes_freed'] / 2**20:,.1f} MB freed; kept "
                  f"{', '.join(r['kept']) or 'nothing'} and every stage's marker")
    print(f"total: {report['bytes_freed'] / 2**20:,.1f} MB {'to free' if a.dry_run else 'freed'} "
          f"(kept for redecide and the notebook: {', '.join(KEEP_STAGES)})")
    return 0


def _cmd_report(a: argparse.Namespace) -> int:
    """The report of a local store's version, or of a Hadoop store's (its stats copied out first)."""
    from jwc.jobs.stats import find_version, report_version, stats_params
    from jwc.pipeline.errors import UserError
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.io.store import store_location

    cfg = config_mod.load(a.config)
    params = stats_params(cfg)
    if a.fail_on_drift:
        params["fail_on_drift"] = True
    if a.trend < 0:
        raise UserError(f"--trend must be 0 or more versions, got {a.trend}")
    uri = store_location(a.store, cfg["store"]["api"]).uri if a.store else None
    found = (_pulled_version(a, cfg, uri) if uri is not None
             else contextlib.nullcontext(find_version(a.version, a.store, a.dataset)))
    with found as version_dir:
        out = a.out or f"{version_dir.name}-report.html"
        findings = report_version(version_dir, out, params, a.trend)
    print(out)
    return EXIT_DRIFT if findings and params["fail_on_drift"] else 0


@contextlib.contextmanager
def _pulled_version(a: argparse.Namespace, cfg: "Config", uri: str) -> Iterator[Path]:
    """A version of a Hadoop store with its ancestors' manifests and stats (what the report compares with), copied
    through Hadoop's FileSystem API into a temporary folder that lasts as long as the `with`."""
    import tempfile

    from jwc.pipeline.errors import UserError
    from jwc.pipeline.io.hadoop import HadoopFS
    from jwc.pipeline.io.store import SharedStore
    from jwc.pipeline.versions.ids import checked_version
    from jwc.pipeline.versions.shared import pull_published

    version = checked_version(a.version, "version")
    dataset = _dataset_name(a, cfg)
    shared = SharedStore.open(HadoopFS(_session("jwc-report", cfg, a), uri), create=False)
    with tempfile.TemporaryDirectory(prefix="jwc-report-") as tmp:
        ids = pull_published(shared, dataset, Path(tmp) / dataset)
        if version not in ids:
            raise UserError(f"no version {version} of {dataset} in {uri}; published: {', '.join(ids) or 'none'}")
        yield Path(tmp) / dataset / "versions" / version


def _cmd_decontam_check(a: argparse.Namespace) -> int:
    from jwc.filters.decontam import PARAMS
    from jwc.jobs.decontam import check_version
    from jwc.jobs.stats import find_version
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.errors import UserError

    cfg = config_mod.load(a.config)
    options = {k: v for k, v in cfg.filters.get("decontam", {}).items() if k != "enabled"}
    given = {"sets": a.set, "fields": a.fields, "id_field": a.id_field, "ngram": a.ngram,
             "max_item_share": a.max_item_share, "max_ngram_texts": a.max_ngram_texts}
    try:
        options.update({k: PARAMS[k].validate(f"--{k.replace('_', '-')}", v) for k, v in given.items()
                        if v is not None})
    except ValueError as exc:
        raise UserError(str(exc)) from None
    options["action"] = "drop"  # a check cuts nothing: every matching document counts as removed
    version_dir = find_version(a.version, a.store, a.dataset)
    result = check_version(_session("jwc-decontam-check", cfg, a), version_dir, options)
    if a.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"{result['dataset']} {result['version']}: {result['documents_removed']:,} of {result['documents']:,} "
          "documents would be removed")
    print(f"{'set':<24} {'items':>8} {'found':>8} {'documents':>10} {'removed':>8}  digest")
    for r in result["sets"]:
        print(f"{r['set']:<24} {r['items']:>8,} {r['items_found']:>8,} {r['documents']:>10,} {r['removed']:>8,}  "
              f"{r['digest']}")
    return 0


def _add_input_flags(p: argparse.ArgumentParser) -> None:
    """Input flags shared by `nightly` and `extract`: paths, listings, a Common Crawl crawl id, index mode."""
    p.add_argument("--input", action="append", metavar="PATH_OR_GLOB",
                   help="WARC file, folder or glob (local, file:, hdfs:, s3a: ...); repeatable")
    p.add_argument("--input-list", action="append", metavar="FILE",
                   help="listing of WARC paths, one a line, plain or gzip (local, http(s), hdfs: ...); repeatable")
    p.add_argument("--prefix", metavar="URL",
                   help="prepended to relative listed paths, e.g. https://data.commoncrawl.org/")
    p.add_argument("--from", dest="source", choices=("commoncrawl",),
                   help="read the crawl named by --crawl-id from Common Crawl: its warc.paths.gz, or with --index "
                        "its URL index ([commoncrawl] base_url, or --cc-base)")
    p.add_argument("--index", nargs="?", const="", metavar="LOCATION",
                   help="index mode: read only the records the cc-index-table selects ([commoncrawl] language "
                        "rule); LOCATION is a table root or a *.paths.gz listing, derived from the crawl id if omitted")
    p.add_argument("--cc-base", metavar="URL", help="base of the Common Crawl release (default [commoncrawl] base_url)")
    p.add_argument("--only-failed", action="store_true",
                   help="retry only the WARC files an earlier run listed as failed, and keep everything else")


def _add_spark_flags(p: argparse.ArgumentParser, what: str = "") -> None:
    """`--master` and `--conf` for a command that starts Spark."""
    p.add_argument("--master", help=f"{what}Spark master, e.g. local[4] or spark://host:7077 (default: the config's "
                   "[spark] master, else spark-submit's, else local[*])")
    p.add_argument("--conf", action="append", metavar="KEY=VALUE",
                   help=f"{what}a Spark setting, as with spark-submit --conf; repeatable; wins over the config's "
                        "[spark] keys and spark-submit's")


def _add_store(p: argparse.ArgumentParser, creates: bool = False, fallback: str | None = None,
               hadoop: bool = False) -> None:
    """`--store`, defaulting to $JWC_STORE, else `fallback`; required when neither is there. `hadoop`: the command
    also takes a store on a Hadoop file system."""
    default = os.environ.get("JWC_STORE") or fallback
    shown = "$JWC_STORE" + (f", else {fallback}" if fallback else "")
    uri = ", or a Hadoop URI (hdfs://nn:8020/jwc, viewfs://...; docs/operations.md)" if hadoop else ""
    p.add_argument("--store", default=default, required=default is None, metavar="DIR",
                   help=f"dataset store folder{' (created when missing or empty)' if creates else ''}{uri}; "
                        f"default {shown} (now: {default or 'not set'})")


def _add_dataset_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="dataset name (default: the config's [run] dataset)")
    p.add_argument("--config", help="TOML config file (default dataset name, [spark] settings)")


def _jwc_version() -> str:
    """`jwc X (pyspark Y, python Z)` from the installed distributions, without importing pyspark."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"jwc {of('jwc')} (pyspark {of('pyspark')}, python {sys.version.split()[0]})"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jwc", description="Japanese web-corpus curation pipeline (PySpark).")
    p.add_argument("--version", action="version", version=_jwc_version(), help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=fn)
        return sp

    n = add("nightly", _cmd_nightly, "Run every stage for one crawl into the dataset store; prints a summary on "
            "stderr (version, documents, tokens, report, drift).")
    n.add_argument("--crawl-id", required=True, help="crawl id, e.g. CC-MAIN-2026-48 (names the run folder)")
    _add_input_flags(n)
    n.add_argument("--allow-failed", action="store_true",
                   help="go on past extract although some WARC files could not be read (they stay listed as failed)")
    _add_store(n, creates=True, hadoop=True)
    n.add_argument("--work", metavar="DIR", help="for a store on a Hadoop file system (hdfs://, viewfs://): the "
                   "local folder the run works in (runs/, staging); default [store] work_dir (jwc-work)")
    n.add_argument("--config", help="TOML config file (see `jwc config defaults`)")
    _add_spark_flags(n)
    n.add_argument("--restart", action="store_true",
                   help="discard an unfinished run of this crawl that used other inputs or another config")
    n.add_argument("--break-lock", action="store_true", help=BREAK_LOCK_HELP)
    n.add_argument("--json", action="store_true", help="also print every stage's counts as JSON on stdout")

    e = add("extract", _cmd_extract, "Run the extract stage alone: WARC files -> Parquet records.")
    _add_input_flags(e)
    e.add_argument("--output", required=True, help="output folder (records/, counts.json, failed_files.txt)")
    e.add_argument("--crawl-id", default="adhoc", help="crawl id written into every row (default adhoc)")
    e.add_argument("--config", help="TOML config file ([extract], [langid], [commoncrawl] settings)")
    _add_spark_flags(e)
    e.add_argument("--json", action="store_true", help="also print the counts as JSON on stdout")

    s = add("sample", _cmd_sample, "Write the bundled sample crawl (a small WARC with its truth file).")
    s.add_argument("output", help="output .warc.gz path")
    s.add_argument("--records", type=int, default=300, help="number of response records (default 300)")
    s.add_argument("--seed", type=int, default=0, help="random seed: the same seed writes the same crawl")

    r = add("redecide", _cmd_redecide,
            "Apply a config's thresholds to stored signals (a filter stage's output) without recomputing them.")
    r.add_argument("filtered", help="a filter stage output folder (runs/<crawl>/filter) or its documents/")
    r.add_argument("--config", help="TOML config with the new thresholds")
    r.add_argument("--output", required=True, help="folder for the re-decided documents and before/after counts")
    _add_spark_flags(r)

    tc = add("train-classifier", _cmd_train_classifier,
             "Train a fastText classifier (toxicity, quality, ...) from labelled JSONL; prints precision/recall.")
    tc.add_argument("data", help="JSONL with one {text, label} object per line")
    tc.add_argument("--output", required=True, help="model file to write (.bin)")
    tc.add_argument("--label-field", default="label", help="JSON field holding the label (default label)")
    tc.add_argument("--text-field", default="text", help="JSON field holding the text (default text)")
    tc.add_argument("--valid-fraction", type=float, default=0.1, help="held-out share for the report")
    tc.add_argument("--epochs", type=int, default=25, help="fastText training epochs (default 25)")
    tc.add_argument("--seed", type=int, default=0, help="seed of the train/held-out split")

    c = add("config", _cmd_config, "Print the documented defaults, or check a config file.")
    c.add_argument("action", choices=("defaults", "check"),
                   help="defaults: print every key with its default and documentation; check: validate FILE")
    c.add_argument("file", nargs="?", help="check: the TOML config file to validate")

    v = add("versions", _cmd_versions, "Published versions of a dataset: list them, show a manifest, diff two (an "
            "increment over its ancestor, or any two), the chain of increments up to one (chain; resolve: every "
            "shard and token prefix), the Megatron-LM/NeMo training arguments for it (train-args), or re-hash one "
            "or a copy of one against its manifest (verify; exit 1 on a mismatch).")
    v.add_argument("action", choices=("list", "show", "diff", "chain", "resolve", "train-args", "verify"),
                   help="what to do (see the command's description)")
    v.add_argument("ids", nargs="*", metavar="VERSION",
                   help="show, verify: one version id; diff: OLD NEW; chain, resolve, train-args: up to which "
                        "version (default: the latest)")
    v.add_argument("--store", default=os.environ.get("JWC_STORE"), metavar="DIR",
                   help="dataset store folder or Hadoop URI (hdfs://...) (not needed by "
                        "verify --path); default $JWC_STORE")
    v.add_argument("--path", help="verify: a copied version folder to check instead of the store's")
    v.add_argument("--root", help="resolve, train-args: folder holding the version folders (default: the store's "
                                  "versions/), e.g. where they were copied on the training cluster; needed "
                                  "by train-args on a Hadoop store")
    v.add_argument("--dataset", help="dataset name (default: the config's run.dataset)")
    v.add_argument("--config", help="TOML config file (for the default dataset name)")
    v.add_argument("--json", action="store_true", help="list: print JSON instead of a table")
    v.add_argument("--top-hosts", type=int, default=20, help="diff: hosts with the most changes to list")
    _add_spark_flags(v, "diff: ")

    ix = add("index", _cmd_index, "Show the dataset's dedup index (rows, files, size per published version), or "
             "compact it: rewrite versions made of more files than their size needs. Run it between nightlies.")
    ix.add_argument("action", choices=("show", "compact"), help="show: rows, files, MB per version; compact: rewrite")
    _add_store(ix, hadoop=True)
    _add_dataset_flags(ix)
    ix.add_argument("--target-mb", type=float, default=128, help="compact: size of a rewritten file (default 128)")
    _add_spark_flags(ix, "compact: ")
    ix.add_argument("--break-lock", action="store_true", help=BREAK_LOCK_HELP)

    t = add("train-tokenizer", _cmd_train_tokenizer,
            "Train a SentencePiece tokenizer on a sample of a published version and store it in the dataset.")
    _add_store(t)
    t.add_argument("--dataset", help="dataset name (default: the config's run.dataset)")
    t.add_argument("--version", action="append", help="published version to sample; repeatable (default: the "
                   "latest, unless --input is given)")
    t.add_argument("--input", action="append", metavar="PATH",
                   help="Parquet file or folder (a text column), .jsonl or .txt file(s) to sample, e.g. a run's "
                        "runs/<crawl>/shards; repeatable")
    t.add_argument("--text-field", default="text", help="the text column or JSON field of --input (default text)")
    t.add_argument("--vocab-size", type=int, help="requested vocabulary (default [tokenize] vocab_size)")
    t.add_argument("--config", help="TOML config file ([tokenize] training settings and size checks)")
    t.add_argument("--pin", action="store_true", help="pin the dataset to it: refused when pinned to another, or "
                   "when the vocabulary or sample fails the size checks ([tokenize] min_vocab_fraction, "
                   "min_sample_docs)")
    t.add_argument("--toy", action="store_true", help="with --pin: pin even when the size checks fail (demos and "
                   "tests only; said loudly)")
    _add_spark_flags(t)
    rn = add("runs", _cmd_runs, "Clean store/runs/: remove the outputs of published runs except filter/ (what "
             "redecide and the inspection notebook read) and every stage's marker, so a rerun still finds the run "
             "complete; unfinished runs are kept whole.")
    rn.add_argument("action", choices=("clean",), help="clean: remove published runs' outputs (see above)")
    _add_store(rn)
    rn.add_argument("--dry-run", action="store_true", help="list what would be removed and the space it frees")
    rp = add("report", _cmd_report, "Write the self-contained HTML report of a published version, compared with "
             "its parent; exits 3 on drift when [stats] fail_on_drift (or --fail-on-drift) is set.")
    rp.add_argument("version", help="version id (e.g. v0003), or a version folder")
    _add_store(rp, fallback=".", hadoop=True)
    rp.add_argument("--dataset", help="dataset name (default: the one that has this version; on a Hadoop store "
                                      "the config's [run] dataset)")
    rp.add_argument("--out", help="HTML file to write (default <version>-report.html)")
    rp.add_argument("--config", help="TOML config file ([stats] drift tolerances)")
    rp.add_argument("--fail-on-drift", action="store_true", help="exit 3 when there is drift, whatever the config")
    rp.add_argument("--trend", type=int, default=0, metavar="N",
                    help="add the trend of the last N versions ending at VERSION: a report section, a text table "
                    "on stdout, and <out>-trend.parquet beside the report (docs/stats.md)")
    _add_spark_flags(rp, "Hadoop store: ")

    dc = add("decontam-check", _cmd_decontam_check,
             "Check a published version against evaluation sets without re-running the pipeline (report only): "
             "per set, items found and documents that would be removed.")
    dc.add_argument("version", help="version id (e.g. v0003), or a version folder")
    dc.add_argument("--set", action="append", metavar="FILE",
                    help="evaluation set: JSONL, TSV/CSV with a header, Parquet (local or URI); repeatable; "
                         "default the config's [filters.decontam] sets")
    dc.add_argument("--fields", nargs="+", metavar="FIELD", help="fields whose text is matched (default: config)")
    dc.add_argument("--id-field", help="field holding an item's id (default: config)")
    dc.add_argument("--ngram", type=int, help="characters per n-gram (default: config)")
    dc.add_argument("--max-ngram-texts", type=int,
                    help="n-grams in more than this many distinct texts of the sets are left out (default: config)")
    dc.add_argument("--max-item-share", type=float,
                    help="a document is removed when more than this share of an item's n-grams is in it")
    _add_store(dc, fallback=".")
    _add_dataset_flags(dc)
    _add_spark_flags(dc)
    dc.add_argument("--json", action="store_true", help="print the result as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: clear one-line errors and non-zero exits for every refusal and for failures of the machine
    (full disk, read-only store), no stack traces."""
    from jwc.pipeline.errors import UserError, machine_failure

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"jwc {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        line = machine_failure(exc)
        if line is None:
            raise
        print(f"jwc {args.command}: error: {line}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
