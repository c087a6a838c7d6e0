"""What changed between two published versions: documents by doc_id and host, totals, removal rates.

Versions are increments: a version holds only the documents its crawl added. When the old version is an ancestor
of the new one (the usual case: the parent), the diff says so and reports the increment (new documents, overlap
with the old version, the dataset's size before and after) instead of calling the old version's documents
"removed": they are still in the dataset, in the old version.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from jwc.pipeline.versions.chain import version_chain
from jwc.pipeline.versions.manifest import read_manifest


def removal_rates(counts: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """`<stage>.<reason>` -> share of the stage's input removed for that reason, from a manifest's stage counts.

    The filter stage reports `removed_<rule>` out of `documents`; dedup reports `<reason>_removed` out of `input`.
    """
    rates: dict[str, float] = {}
    for stage, c in counts.items():
        total = c.get("documents", c.get("input"))
        if not isinstance(total, int) or total <= 0:
            continue
        for key, value in c.items():
            if not isinstance(value, int) or key == "removed":
                continue
            if key.startswith("removed_"):
                rates[f"{stage}.{key[len('removed_'):]}"] = value / total
            elif key.endswith("_removed"):
                rates[f"{stage}.{key[:-len('_removed')]}"] = value / total
    return rates


def diff_versions(spark: Any, dataset_dir: Path, old: str, new: str, top_hosts: int = 20,
                  versions_uri: str | None = None) -> dict[str, Any]:
    """What changed from `old` to `new`: documents added and removed (by doc_id), by host, totals, and the change
    of every removal rate. The doc_id sets are compared by Spark; only per-host counts reach the driver.
    `versions_uri`: where Spark reads the shards when the manifests were copied out of a Hadoop store."""
    from pyspark.sql import functions as F

    manifests = {v: read_manifest(dataset_dir, v) for v in (old, new)}

    def ids(version: str, flag: str) -> Any:
        root = f"{versions_uri.rstrip('/')}/{version}" if versions_uri else str(dataset_dir / "versions" / version)
        paths = [f"{root}/{s['parquet']}" for s in manifests[version]["shards"]]
        if not paths:
            return spark.createDataFrame([], "doc_id string, host string").withColumn(flag, F.lit(True))
        return spark.read.parquet(*paths).select("doc_id", "host", F.lit(True).alias(flag))

    joined = ids(old, "in_old").join(ids(new, "in_new").withColumnRenamed("host", "host_new"), "doc_id", "full")
    marked = joined.select(
        F.coalesce("host_new", "host").alias("host"),
        (F.col("in_new").isNotNull() & F.col("in_old").isNull()).cast("long").alias("added"),
        (F.col("in_old").isNotNull() & F.col("in_new").isNull()).cast("long").alias("removed"),
        (F.col("in_old").isNotNull() & F.col("in_new").isNotNull()).cast("long").alias("kept"),
    )
    by_host = (marked.groupBy("host").agg(F.sum("added").alias("added"), F.sum("removed").alias("removed"))
               .where((F.col("added") > 0) | (F.col("removed") > 0)).cache())
    totals = marked.agg(F.sum("added"), F.sum("removed"), F.sum("kept"), F.countDistinct("host")).first()
    hosts_changed = by_host.count()
    top = by_host.orderBy((F.col("added") + F.col("removed")).desc(), F.col("host").asc_nulls_first()).limit(top_hosts)
    host_rows = [{"host": r["host"], "added": int(r["added"]), "removed": int(r["removed"])} for r in top.collect()]
    by_host.unpersist()
    rates = {v: removal_rates(m["counts"]) for v, m in manifests.items()}
    reasons = sorted(set(rates[old]) | set(rates[new]))
    t_old, t_new = manifests[old]["totals"], manifests[new]["totals"]
    return {
        "old": old, "new": new,
        **_documents(dataset_dir, old, new, int(totals[0] or 0), int(totals[1] or 0), int(totals[2] or 0)),
        "tokens": {"old": t_old["tokens"], "new": t_new["tokens"], "change": t_new["tokens"] - t_old["tokens"]},
        "hosts": {"total": int(totals[3] or 0), "changed": int(hosts_changed), "top": host_rows},
        "removal_rates": {r: {"old": rates[old].get(r, 0.0), "new": rates[new].get(r, 0.0),
                              "change": rates[new].get(r, 0.0) - rates[old].get(r, 0.0)} for r in reasons},
        "config_changed": manifests[old]["config_digest"] != manifests[new]["config_digest"],
        "tokenizer_changed": manifests[old]["tokenizer"]["id"] != manifests[new]["tokenizer"]["id"],
    }


def _documents(dataset_dir: Path, old: str, new: str, added: int, removed: int, both: int) -> dict[str, Any]:
    """The document part of a diff: an increment when `old` is an ancestor of `new`, else a plain set comparison."""
    chain = version_chain(dataset_dir, new)
    ids = [m["version"] for m in chain]
    if old not in ids[:-1]:
        return {"kind": "versions", "documents": {
            "old": read_manifest(dataset_dir, old)["totals"]["documents"], "new": chain[-1]["totals"]["documents"],
            "added": added, "removed": removed, "unchanged": both}}
    before = sum(m["totals"]["documents"] for m in chain[: ids.index(old) + 1])
    after = sum(m["totals"]["documents"] for m in chain)
    return {"kind": "increment", "increments": ids[ids.index(old) + 1:], "documents": {
        "old": chain[ids.index(old)]["totals"]["documents"], "new": chain[-1]["totals"]["documents"],
        "new_documents": added, "overlap_with_old": both, "dataset_before": before, "dataset_after": after}}
