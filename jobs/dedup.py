"""The near-dedup stage: exact dedup, MinHash LSH with verified edges, the keep rule, and matching against the index
of already published versions.

Why the steps are shaped this way (details and measurements in docs/dedup.md):
- One Python pass over the texts (mapInArrow on the executors) makes the exact-dedup hash, the signature and the
  band keys together, so text is read once; everything after is Spark SQL on ids, keys and int arrays.
- Node ids are assigned in keep-policy order (published index rows first, then oldest or newest, then doc_id).
  The ids themselves may differ between runs; their order, and so every decision, does not.
- Every decision about a document depends only on the documents before it in that order: its candidates are the
  first `pair_bucket_max` earlier members of its LSH buckets, and it is removed when a verified candidate is earlier.
  So a corpus split into nightly increments (in policy order) keeps exactly what one batch keeps, although published
  versions are never taken back. Merging whole connected components would not: a newer page similar to two
  published pages that are not similar to each other (a bridge) would have to unpublish one.
- LSH buckets only propose pairs; every proposed edge is verified by the Jaccard estimate of the full signatures.
- Each removed document points to its earliest verified neighbour; large-star/small-star components of those
  pointers resolve chains to the kept document at their end (its cluster).
- Intermediate tables are written under output_dir/_work and read back, which fixes the ids once and cuts lineage;
  both that and the checkpoint directory are deleted at the end.
"""
from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jwc.pipeline.dedup import index as dedup_index
from jwc.pipeline.dedup.components import connected_components
from jwc.pipeline.dedup.minhash import arrow_signatures, dedup_options
from jwc.pipeline.io.atomic import atomic_write_json

if TYPE_CHECKING:
    from jwc.jobs.stages import RunContext

REQUIRED_COLUMNS = ("doc_id", "text", "url", "host", "warc_date")
REASONS = ("exact", "near", "published")
INDEX_SEEN = "index_seen.json"  # in the stage folder: the published versions this run's dedup matched against
_SIGNATURE_SCHEMA = "doc_id string, warc_date string, text_hash binary, signature array<int>, bands array<bigint>"
_INDEX_NODE_OFFSET = 2**62  # index rows get negative node ids: they sort before every new document


def _policy_order(keep: str, date: str = "warc_date", doc: str = "doc_id") -> list[Column]:
    """Sort order in which the first document of a group is the one to keep."""
    first = F.col(date).asc_nulls_last() if keep == "oldest" else F.col(date).desc_nulls_last()
    return [first, F.col(doc).asc()]


def _jaccard(a: str, b: str) -> Column:
    """Share of equal positions of two signature arrays, in Spark SQL (no Python round trip)."""
    return F.size(F.filter(F.zip_with(a, b, lambda x, y: x == y), lambda same: same)) / F.size(a)


def _stage(df: DataFrame, path: str) -> DataFrame:
    """Write an intermediate table and read it back: computed once, no lineage carried forward."""
    df.write.mode("overwrite").parquet(path)
    return df.sparkSession.read.parquet(path)


class _Steps:
    """One stderr line per finished step (`[dedup] signatures: 200,000 documents (34s)`): the stage has no file to
    count, so it says what it has finished and how long that took."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = time.monotonic()

    def done(self, step: str, count: int | Callable[[], int], unit: str = "") -> None:
        """`count` may be a callable (a Spark count): it only runs when the line is printed."""
        if self.enabled:
            n = count() if callable(count) else count
            now = time.monotonic()
            print(f"[dedup] {step}: {n:,}{' ' + unit if unit else ''} ({now - self.last:,.0f}s)", file=sys.stderr,
                  flush=True)
            self.last = now


def _candidate_edges(nodes: DataFrame, compare_max: int) -> DataFrame:
    """(src, dst) pairs sharing an LSH bucket with dst < src and src a new document (src >= 0): each document is
    paired with the first `compare_max` members of each of its buckets that come before it.

    A document's candidates never depend on later arrivals (a bucket growing past the cap changes nothing for its
    earlier members), which is what lets nightly increments agree with one batch; the cap bounds boilerplate buckets.
    """
    entries = nodes.select("node", F.posexplode("bands").alias("band", "key"))
    bucket = Window.partitionBy("band", "key")  # one shuffle of the entries serves size, top and rank
    members = (
        entries.withColumn("size", F.count(F.lit(1)).over(bucket))
        .withColumn("top", F.max("node").over(bucket))
        .withColumn("rank", F.row_number().over(bucket.orderBy("node")))
        .where((F.col("size") >= 2) & (F.col("top") >= 0))
    )
    firsts = members.where(F.col("rank") <= compare_max).select("band", "key", F.col("node").alias("dst"))
    return (
        members.where(F.col("node") >= 0)
        .select("band", "key", F.col("node").alias("src"))
        .join(firsts, ["band", "key"])
        .where(F.col("src") > F.col("dst"))
        .select("src", "dst")
        .distinct()
    )


def _index_nodes(index: DataFrame, new_nodes: DataFrame, keep: str, path: str) -> DataFrame:
    """Index rows sharing a band key with a new document, as nodes with negative ids in policy order (published
    documents come before every new one, and among themselves in the order one batch would have given them)."""
    new_keys = new_nodes.select(F.posexplode("bands").alias("band", "key")).distinct()
    hits = (
        index.select("doc_id", F.posexplode("bands").alias("band", "key"))
        .join(new_keys, ["band", "key"], "left_semi")
        .select("doc_id")
        .distinct()
    )
    matched = index.join(hits, "doc_id", "left_semi")
    return _stage(
        matched.orderBy(*_policy_order(keep)).select(
            (F.monotonically_increasing_id() - F.lit(_INDEX_NODE_OFFSET)).alias("node"),
            "doc_id", "cluster_id", "warc_date", "signature", "bands", F.lit(True).alias("published"),
        ),
        path,
    )


def _published_copies(survivors: DataFrame, index: DataFrame, keep: str) -> DataFrame:
    """Decisions for new documents whose normalised text equals a published one's: removed before LSH, as one batch
    would have removed them as exact duplicates, pointing to that document's published cluster."""
    matches = survivors.select("doc_id", "text_hash").join(
        index.where(F.col("text_hash").isNotNull()).select(
            "text_hash", F.col("doc_id").alias("match"), F.col("warc_date").alias("match_date"),
            F.col("cluster_id").alias("match_cluster"),
        ),
        "text_hash",
    )
    first = Window.partitionBy("doc_id").orderBy(*_policy_order(keep, "match_date", "match"))
    return (
        matches.withColumn("rank", F.row_number().over(first))
        .where(F.col("rank") == 1)
        .select(
            "doc_id", F.lit(False).alias("kept"), F.col("match_cluster").alias("duplicate_of"),
            F.lit("published").alias("reason"), F.lit(1.0).alias("jaccard"),
        )
    )


def run_dedup(
    spark: SparkSession,
    docs_path: str | DataFrame,
    output_dir: str,
    params: Mapping[str, Any] | None,
    index_dir: str | None = None,
    version_id: str | None = None,
    progress: bool = False,
    index_versions: Sequence[str] | None = None,
) -> dict[str, int]:
    """Deduplicate the documents at `docs_path` (Parquet with doc_id, text, url, host, warc_date, ...).

    Writes output_dir/documents/ (kept documents, every input column plus cluster_id and cluster_size),
    output_dir/duplicates/ (doc_id, url, host, duplicate_of, reason, jaccard) and output_dir/signatures/ (what
    `add_to_index` needs at publish time). With `index_dir`, documents that near-duplicate a published document
    are removed with reason "published"; the index's version `version_id`, if present, is ignored (a re-run), and
    with `index_versions` only those versions are read (the ones the stage recorded).
    Returns the counts input, exact_removed, near_removed, published_removed, output. `progress` prints a line to
    stderr as each step finishes.
    """
    opts = dedup_options(params)
    steps = _Steps(progress)
    if index_dir:
        dedup_index.check_params(spark, index_dir, opts)
    out = output_dir.rstrip("/")
    work = f"{out}/_work"
    spark.sparkContext.setCheckpointDir(f"{out}/_checkpoints")
    docs = spark.read.parquet(docs_path) if isinstance(docs_path, str) else docs_path
    missing = [c for c in REQUIRED_COLUMNS if c not in docs.columns]
    if missing:
        raise ValueError(f"{docs_path} lacks column(s) {', '.join(missing)}")
    docs = docs.drop("cluster_id", "cluster_size")
    order = _policy_order(opts["keep"])

    # 1. One Python pass on the executors: exact hash, signature, band keys.
    sigs = _stage(
        docs.select("doc_id", F.col("warc_date").cast("string").alias("warc_date"), "text").mapInArrow(
            functools.partial(arrow_signatures, params=opts), _SIGNATURE_SCHEMA
        ),
        f"{work}/signatures",
    )
    total, distinct = sigs.agg(F.count(F.lit(1)), F.countDistinct("doc_id")).first()
    if total != distinct:
        raise ValueError(f"{docs_path}: doc_id is not unique ({total} rows, {distinct} distinct ids)")
    steps.done("signatures", total, "documents")

    # 2. Exact dedup: the first document of each normalised-text group in policy order survives.
    if opts["exact"]:
        sigs = sigs.withColumn("exact_of", F.first("doc_id").over(Window.partitionBy("text_hash").orderBy(*order)))
    else:
        sigs = sigs.withColumn("exact_of", F.col("doc_id"))
    exact = sigs.where(F.col("doc_id") != F.col("exact_of")).select("doc_id", "exact_of")
    survivors = sigs.where(F.col("doc_id") == F.col("exact_of"))

    # 3. Against the index: exact copies of published documents go first (as they would in one batch, so not when
    #    exact dedup is off); the rest become nodes in policy order, after the index rows sharing a band key.
    index = dedup_index.read_index(spark, index_dir, version_id, index_versions) if index_dir else None
    published_copies = None
    if index is not None and opts["exact"]:
        published_copies = _stage(_published_copies(survivors, index, opts["keep"]), f"{work}/published_copies")
        survivors = survivors.join(published_copies.select("doc_id"), "doc_id", "left_anti")
        steps.done("exact copies of published documents", published_copies.count)
    new_nodes = _stage(
        survivors.orderBy(*order).select(
            F.monotonically_increasing_id().alias("node"), "doc_id", F.col("doc_id").alias("cluster_id"),
            "warc_date", "text_hash", "signature", "bands", F.lit(False).alias("published"),
        ),
        f"{work}/nodes_new",
    )
    nodes = new_nodes.drop("text_hash")
    if index is not None:
        index_nodes = _index_nodes(index, new_nodes, opts["keep"], f"{work}/nodes_index")
        nodes = nodes.unionByName(index_nodes)
        steps.done("published documents sharing a band key", index_nodes.count)

    # 4. LSH candidates -> verified edges -> each document's earliest verified neighbour -> chains resolved.
    candidates = _candidate_edges(nodes, opts["pair_bucket_max"])
    signature = nodes.select("node", "signature")
    verified = (
        candidates.join(signature.select(F.col("node").alias("src"), F.col("signature").alias("s1")), "src")
        .join(signature.select(F.col("node").alias("dst"), F.col("signature").alias("s2")), "dst")
        .where(_jaccard("s1", "s2") >= opts["threshold"])
    )
    earliest = verified.groupBy("src").agg(F.min("dst").alias("dst"))
    components = connected_components(earliest, opts["max_cc_iterations"])

    # 5. Decisions: a document without an earlier verified neighbour is kept; the others point to the kept document
    #    their chain ends at (or to its published cluster). Exact duplicates follow their keeper.
    reps = nodes.select(
        F.col("node").alias("component"), F.col("cluster_id").alias("rep_cluster"),
        F.col("published").alias("rep_published"), F.col("signature").alias("rep_signature"),
    )
    decided = (
        new_nodes.select("node", "doc_id", "signature")
        .join(components, "node", "left")
        .withColumn("component", F.coalesce("component", "node"))
        .join(reps, "component")
        .select(
            "doc_id",
            (F.col("component") == F.col("node")).alias("kept"),
            F.when(F.col("component") != F.col("node"), F.col("rep_cluster")).alias("duplicate_of"),
            F.when(F.col("component") == F.col("node"), None)
            .when(F.col("rep_published"), "published").otherwise("near").alias("reason"),
            F.when(F.col("component") != F.col("node"), _jaccard("signature", "rep_signature")).alias("jaccard"),
        )
    )
    if published_copies is not None:
        decided = decided.unionByName(published_copies)
    decided = _stage(decided, f"{work}/decided")
    steps.done("candidates verified, chains resolved", new_nodes.count, "documents decided")
    keepers = decided.select(
        F.col("doc_id").alias("exact_of"), "kept", F.col("duplicate_of").alias("keeper_dup"),
        F.col("jaccard").alias("keeper_jaccard"),
    )
    exact_removed = exact.join(keepers, "exact_of").select(
        "doc_id",
        F.lit(False).alias("kept"),
        F.when(F.col("kept"), F.col("exact_of")).otherwise(F.col("keeper_dup")).alias("duplicate_of"),
        F.lit("exact").alias("reason"),
        F.when(F.col("kept"), F.lit(1.0)).otherwise(F.col("keeper_jaccard")).alias("jaccard"),
    )
    decisions = _stage(decided.unionByName(exact_removed), f"{work}/decisions")

    # 6. Outputs.
    removed = decisions.where(~F.col("kept")).select("doc_id", "duplicate_of", "reason", "jaccard")
    sizes = removed.where(F.col("reason") != "published").groupBy(F.col("duplicate_of").alias("doc_id")).count()
    kept = (
        decisions.where(F.col("kept"))
        .select("doc_id")
        .join(sizes, "doc_id", "left")
        .select("doc_id", F.col("doc_id").alias("cluster_id"),
                (F.coalesce(F.col("count"), F.lit(0)) + 1).cast("int").alias("cluster_size"))
    )
    docs.join(kept, "doc_id").write.mode("overwrite").parquet(f"{out}/documents")
    docs.select("doc_id", "url", "host").join(removed, "doc_id").write.mode("overwrite").parquet(f"{out}/duplicates")
    new_nodes.select("doc_id", "warc_date", "text_hash", "signature", "bands").join(
        decided.select("doc_id", F.coalesce("duplicate_of", "doc_id").alias("cluster_id")), "doc_id"
    ).select(*dedup_index.INDEX_COLUMNS).write.mode("overwrite").parquet(f"{out}/signatures")

    row = decisions.agg(
        *[F.sum((F.col("reason") == reason).cast("long")).alias(reason) for reason in REASONS],
        F.sum(F.col("kept").cast("long")).alias("kept"),
    ).first()
    steps.done("outputs written", int(row["kept"] or 0), "kept")
    counts = {
        "input": int(total),
        "exact_removed": int(row["exact"] or 0),
        "near_removed": int(row["near"] or 0),
        "published_removed": int(row["published"] or 0),
        "output": int(row["kept"] or 0),
    }
    dedup_index.remove(spark, work)
    dedup_index.remove(spark, f"{out}/_checkpoints")
    return counts


def published_index(ctx: RunContext, exclude: str, locked: bool = False) -> list[str]:
    """The published versions in the dataset's dedup index, except `exclude` (the run's own version).

    An index switch (a version being added or compacted) that is in progress or was interrupted by a crash is
    waited for or finished first, under the dataset's lock (`locked`: the caller holds it already).
    """
    index_dir = ctx.store.index_dir(ctx.cfg["run"]["dataset"])
    if dedup_index.interrupted(ctx.spark, index_dir):
        if locked:
            _report_recovery(dedup_index.recover(ctx.spark, index_dir))
        else:
            with ctx.dataset_lock("dedup index recovery"):
                _report_recovery(dedup_index.recover(ctx.spark, index_dir))
    return [v for v in dedup_index.versions(ctx.spark, index_dir) if v != exclude]


def _report_recovery(actions: list[str]) -> None:
    for action in actions:
        print(f"[dedup] index recovered after a crash: {action}", file=sys.stderr, flush=True)


def dedup_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: the filter stage's kept documents -> `dedup/`, against the dataset's published index.

    The run's version id is taken here (or read back on a rerun) so that a rerun after publishing ignores the
    version's own index entries. The index versions matched against are recorded in `index_seen.json`: publishing
    redoes this stage when others were published since (jobs/publish.py).
    """
    rv = ctx.version()
    filtered = ctx.spark.read.parquet(str(ctx.stage_dir("filter") / "documents"))
    kept = filtered.where("keep").drop("keep", "reject_reason", "reject_reasons")
    index_dir = ctx.store.index_dir(ctx.cfg["run"]["dataset"])
    seen = published_index(ctx, rv.version)
    atomic_write_json(out / INDEX_SEEN, {"versions": seen})
    present = dedup_index.exists(ctx.spark, index_dir)
    return run_dedup(ctx.spark, kept, str(out), ctx.cfg["dedup"], index_dir if present else None,
                     rv.version, progress=ctx.cfg["run"]["progress_seconds"] > 0, index_versions=seen)
