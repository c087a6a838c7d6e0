"""The persistent near-dedup index: MinHash signatures and band keys of every published version.

Layout (plain Parquet, readable with `ls`):

    index_dir/_params.json                 signature parameters the index was built with (ngram, num_perm, ...)
    index_dir/version=<id>/part-*.parquet  doc_id, cluster_id, warc_date, text_hash, signature, bands

A version holds every document of that version's dedup run that survived exact dedup: the kept ones
(cluster_id == doc_id) and the near-duplicates removed in favour of them (cluster_id = the kept doc). Keeping the
removed ones lets a later document that resembles only a removed member still join the published cluster, as it
would have had both arrived in one batch; `text_hash` lets a later exact copy go before LSH, as in one batch.
Spark skips the `_`-prefixed entries when it reads the directory.
Paths go through Hadoop's FileSystem, so the index may live on any store Spark can write to.
"""
from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pyarrow.parquet as pq

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jwc.pipeline.dedup.minhash import NORMALIZATION_VERSION, SIGNATURE_PARAMS, dedup_options
from jwc.pipeline.io.crash import die_at
from jwc.pipeline.io.hadoop import HadoopFS

INDEX_COLUMNS = ("doc_id", "cluster_id", "warc_date", "text_hash", "signature", "bands")
# Files of versions written before text_hash existed read it as null: they are matched by LSH alone.
FILE_SCHEMA = T.StructType(
    [
        T.StructField("doc_id", T.StringType()),
        T.StructField("cluster_id", T.StringType()),
        T.StructField("warc_date", T.StringType()),
        T.StructField("text_hash", T.BinaryType()),
        T.StructField("signature", T.ArrayType(T.IntegerType())),
        T.StructField("bands", T.ArrayType(T.LongType())),
    ]
)
INDEX_SCHEMA = T.StructType([*FILE_SCHEMA.fields, T.StructField("version", T.StringType())])
PARAMS_FILE = "_params.json"
SWITCHING = "_switching"  # versions being rewritten or added: written whole here, then switched in (readers skip _*)
_LEGACY_SWITCHING = "_compacting"  # the same layout, left by compactions of earlier releases that a crash interrupted
_VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TARGET_FILE_BYTES = 128 * 2**20


def _path(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """(Hadoop FileSystem, Path) for a path on any store Spark is configured for."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def exists(spark: SparkSession, path: str) -> bool:
    fs, hpath = _path(spark, path)
    return bool(fs.exists(hpath))


def remove(spark: SparkSession, path: str) -> None:
    """Delete a file or directory tree if it exists."""
    fs, hpath = _path(spark, path)
    if fs.exists(hpath):
        fs.delete(hpath, True)


def _read_text(spark: SparkSession, path: str) -> str:
    fs, hpath = _path(spark, path)
    stream = fs.open(hpath)
    try:
        return spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def versions(spark: SparkSession, index_dir: str) -> list[str]:
    """Version ids present in the index, sorted."""
    return sorted(_child_versions(spark, index_dir.rstrip("/")))


def summary(index_dir: str | Path) -> list[dict[str, Any]]:
    """Per version: rows, Parquet files and bytes, from the file footers (no Spark; an index on a local store)."""
    rows = []
    for folder in sorted(p for p in Path(index_dir).glob("version=*") if p.is_dir()):
        files = sorted(folder.glob("*.parquet"))
        rows.append({"version": folder.name[len("version="):], "rows": sum(pq.read_metadata(f).num_rows for f in files),
                     "files": len(files), "bytes": sum(f.stat().st_size for f in files)})
    return rows


def summary_spark(spark: SparkSession, index_dir: str) -> list[dict[str, Any]]:
    """`summary` of an index on any file system Spark reads (a Hadoop store): files and bytes from the listing,
    rows counted by Spark in one grouped count over every version (one job however many versions there are); a
    version folder without Parquet files has 0 rows."""
    root = index_dir.rstrip("/")
    listed = {version: _parquet_files(spark, f"{root}/version={version}") for version in versions(spark, root)}
    table = read_index(spark, root, only=[version for version, files in listed.items() if files])
    counts = {} if table is None else {r["version"]: r["count"] for r in table.groupBy("version").count().collect()}
    return [{"version": version, "rows": counts.get(version, 0), "files": len(files),
             "bytes": sum(int(s.getLen()) for s in files)} for version, files in listed.items()]


def _parquet_files(spark: SparkSession, folder: str) -> list[Any]:
    """The Parquet files directly in a version folder, as Hadoop FileStatus (name, length)."""
    fs, hpath = _path(spark, folder)
    return [s for s in fs.listStatus(hpath) if s.isFile() and s.getPath().getName().endswith(".parquet")]


def signature_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that must match between an index and the run that reads it."""
    opts = dedup_options(params)
    return {**{key: opts[key] for key in SIGNATURE_PARAMS}, "normalization": NORMALIZATION_VERSION}


def check_params(spark: SparkSession, index_dir: str, params: Mapping[str, Any]) -> None:
    """Refuse to match against an index built with other signature parameters (the keys would never agree)."""
    path = f"{index_dir.rstrip('/')}/{PARAMS_FILE}"
    if not exists(spark, path):
        return
    stored = json.loads(_read_text(spark, path))
    wanted = signature_params(params)
    if stored != wanted:
        raise ValueError(f"dedup index {index_dir} was built with {stored}, this run uses {wanted}")


def add_to_index(spark: SparkSession, signatures_df: DataFrame, index_dir: str, version_id: str,
                 params: Mapping[str, Any] | None = None) -> str:
    """Write a published version's signatures (a run's `signatures/` output) as index_dir/version=<id>/.

    `params` are the dedup parameters the signatures were made with (defaults when None); the first call records
    them and later calls must match. The folder appears whole or not at all (written aside, then switched in), and
    re-adding the same version replaces it, so a retried publish is harmless. Returns the version directory.
    The caller holds the dataset's lock.
    """
    if not _VERSION_ID.fullmatch(version_id):
        raise ValueError(f"version id {version_id!r} must match {_VERSION_ID.pattern}")
    if "text_hash" not in signatures_df.columns:
        # Staged by a dedup run from before text_hash was indexed (a run resumed after an upgrade): LSH still matches.
        signatures_df = signatures_df.withColumn("text_hash", F.lit(None).cast(T.BinaryType()))
    missing = [c for c in INDEX_COLUMNS if c not in signatures_df.columns]
    if missing:
        raise ValueError(f"signatures lack column(s) {', '.join(missing)}")
    root = index_dir.rstrip("/")
    check_params(spark, root, params or {})
    params_path = f"{root}/{PARAMS_FILE}"
    if not exists(spark, params_path):
        # Whole or absent (temporary file, then a rename that never replaces): a crash here must not leave a
        # truncated file that every later run fails to parse.
        HadoopFS(spark, root).write_atomic(PARAMS_FILE, json.dumps(signature_params(params or {}),
                                                                   sort_keys=True).encode())
    table = signatures_df.select(*INDEX_COLUMNS)
    return _switch_in(spark, root, version_id, functools.partial(_write_parquet, table), "index:add")


def _switch_in(spark: SparkSession, root: str, version: str, write: Callable[[str], None], hook: str) -> str:
    """Replace (or create) index_dir/version=<id>/ crash-safely: write the new folder completely under
    `_switching/new/`, move the live one to `_switching/old/`, move the new one in, delete the old one.

    A crash leaves at most one version between two of these steps; `recover` (run before every use of the index
    under the dataset lock) rolls it forward when the new folder is complete, else back. Crash-test points
    (JWC_TEST_DIE_AT): <hook>:written, <hook>:retired, <hook>:switched, <hook>:cleaned.
    """
    live, new, old = _switch_paths(root, version)
    remove(spark, new)
    write(new)
    die_at(f"{hook}:written")
    fs, live_path = _path(spark, live)
    if fs.exists(live_path):
        remove(spark, old)
        fs.mkdirs(_path(spark, old)[1].getParent())
        _rename(spark, live, old)
        die_at(f"{hook}:retired")
    _rename(spark, new, live)
    die_at(f"{hook}:switched")
    remove(spark, old)
    die_at(f"{hook}:cleaned")
    remove(spark, f"{root}/{SWITCHING}")
    return live


def _write_parquet(table: DataFrame, path: str) -> None:
    table.write.mode("overwrite").parquet(path)


def _switch_paths(root: str, version: str, work: str = SWITCHING) -> tuple[str, str, str]:
    """(live, new, old) folders of a version being switched."""
    return f"{root}/version={version}", f"{root}/{work}/new/version={version}", f"{root}/{work}/old/version={version}"


def _rename(spark: SparkSession, src: str, dst: str) -> None:
    fs, hsrc = _path(spark, src)
    if not fs.rename(hsrc, _path(spark, dst)[1]):
        raise OSError(f"could not rename {src} to {dst}")


def interrupted(spark: SparkSession, index_dir: str) -> bool:
    """Whether a switch is in progress or was interrupted by a crash (then `recover` must run, under the lock)."""
    root = index_dir.rstrip("/")
    return any(exists(spark, f"{root}/{name}") for name in (SWITCHING, _LEGACY_SWITCHING))


def recover(spark: SparkSession, index_dir: str) -> list[str]:
    """Finish or undo a switch that a crash interrupted (see `_switch_in`); returns what was done, one line per
    version. The caller holds the dataset lock, so no switch is in progress."""
    root = index_dir.rstrip("/")
    actions = []
    for name in (SWITCHING, _LEGACY_SWITCHING):
        work = f"{root}/{name}"
        if exists(spark, work):
            actions += _recover_work(spark, root, name)
            remove(spark, work)
    return actions


def _recover_work(spark: SparkSession, root: str, name: str) -> list[str]:
    """`recover` for one work folder."""
    work = f"{root}/{name}"
    pending = sorted({v for side in ("new", "old") for v in _child_versions(spark, f"{work}/{side}")})
    actions = []
    for version in pending:
        live, new, old = _switch_paths(root, version, name)
        if not exists(spark, live):
            if exists(spark, f"{new}/_SUCCESS"):
                _rename(spark, new, live)
                actions.append(f"version={version}: the rewritten folder was switched in")
            elif exists(spark, old):
                _rename(spark, old, live)
                actions.append(f"version={version}: the original folder was put back")
            else:
                raise OSError(f"dedup index {root}: version={version} is gone and neither its rewrite nor its "
                              f"original is under {work}")
        else:
            actions.append(f"version={version}: an unfinished rewrite was discarded"
                           if exists(spark, new) else f"version={version}: the retired folder was deleted")
        remove(spark, new)
        remove(spark, old)
    return actions


def _child_versions(spark: SparkSession, folder: str) -> list[str]:
    fs, hpath = _path(spark, folder)
    if not fs.exists(hpath):
        return []
    names = [status.getPath().getName() for status in fs.listStatus(hpath) if status.isDirectory()]
    return [name[len("version="):] for name in names if name.startswith("version=")]


def read_index(spark: SparkSession, index_dir: str, exclude_version: str | None = None,
               only: Sequence[str] | None = None) -> DataFrame | None:
    """All versions of the index (or those in `only`) with a `version` column, or None when there is none.

    `exclude_version` leaves out the version being rebuilt, so a re-run never matches its own documents.
    """
    present = [v for v in (versions(spark, index_dir) if only is None else only) if v != exclude_version]
    if not present:
        return None
    root = index_dir.rstrip("/")
    return spark.read.schema(INDEX_SCHEMA).option("basePath", root).parquet(*[f"{root}/version={v}" for v in present])


def compact_index(spark: SparkSession, index_dir: str, target_file_bytes: int = _TARGET_FILE_BYTES) -> dict[str, int]:
    """Rewrite every version made of more files than its size needs into files of about `target_file_bytes`.

    First finishes or undoes a compaction a crash interrupted (`recover`); then each version is rewritten under
    `_switching/` and switched in (`_switch_in`: write new, switch, delete old). Returns {version: files after} for
    the versions rewritten. The caller holds the dataset lock.
    """
    root = index_dir.rstrip("/")
    recover(spark, root)
    done: dict[str, int] = {}
    for version in versions(spark, root):
        source = f"{root}/version={version}"
        files = _parquet_files(spark, source)
        size = sum(s.getLen() for s in files)
        wanted = max(1, math.ceil(size / target_file_bytes))
        if len(files) <= wanted:
            continue
        table = spark.read.schema(FILE_SCHEMA).parquet(source).repartition(wanted)
        _switch_in(spark, root, version, functools.partial(_write_parquet, table), "compact")
        done[version] = wanted
    return done
