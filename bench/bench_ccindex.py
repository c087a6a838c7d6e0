"""Index mode vs full scan over a Common-Crawl-like release served by a local HTTP server.

The release: WARC files from ../shared/tools/make_warc_corpus.py with 5% Japanese pages (a crawl-like mix), its
warc.paths.gz, and a cc-index-table-like Parquet built from the truth files (CLD2 emulated: a `--miss-share` of the
Japanese pages is labelled English, as CLD2 misses some). Both modes run the real extract stage in Spark local mode
over HTTP; the server counts the bytes it sends. Two server settings: "local" (as fast as the loopback goes) and
"distant" (`--latency-ms` before each answer, `--mbps` shared by all connections, like a far-away server).

Prints JSON (and writes bench/results/ccindex.json): per setting, bytes and seconds of each mode (best of
`--repeat`, after a warm-up), their ratios, and whether index mode gives the same documents as the full scan for
the records the index selects. Index-mode seconds include reading the index and writing the selection. Also the
requests and bytes index mode would need with `range_merge_gap` set to a few values (from the selection).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import generated_crawl, save  # noqa: E402

CRAWL = "CC-MAIN-2099-01"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--records", type=int, default=2000, help="response/revisit records per WARC file")
    ap.add_argument("--ja-fraction", type=float, default=0.05)
    ap.add_argument("--miss-share", type=float, default=0.1, help="Japanese pages the emulated CLD2 misses")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--latency-ms", type=float, default=30.0, help="distant setting: delay before each answer")
    ap.add_argument("--mbps", type=float, default=1.0,
                    help="distant setting: MB/s shared by all connections (below what the cores can parse, as for "
                         "a cluster on one link)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "jwc-bench-crawls"))
    a = ap.parse_args()

    from jwc.jobs.extract import extract_command
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.io.remote import coalesce
    from jwc.pipeline.spark import get_session
    from tests.ccserver import CrawlServer, build_release

    warcs = [generated_crawl(Path(a.cache), a.records, seed, a.ja_fraction) for seed in range(101, 101 + a.files)]
    work = Path(tempfile.mkdtemp(prefix="jwc-bench-ccindex-"))
    build_release(work / "release", CRAWL, warcs, miss_share=a.miss_share)
    spark = get_session("bench-ccindex", master=f"local[{a.cores}]")
    cfg = config_mod.load(overrides={"run": {"progress_seconds": 0}})
    result: dict = {"files": a.files, "records": a.files * a.records, "ja_fraction": a.ja_fraction,
                    "cld2_miss_share": a.miss_share, "index_rule": "content_languages contains jpn, fetch_status 200, "
                    "HTML mime"}
    settings = {"local": (0.0, 0.0), "distant": (a.latency_ms / 1000, a.mbps * 1e6)}
    for name, (latency, rate) in settings.items():
        with CrawlServer(work / "release", latency=latency, rate=rate) as srv:
            # Warm up the Python workers and the language-ID model so neither mode pays for them.
            extract_command(spark, cfg, str(work / "warmup"), CRAWL, [], source="commoncrawl", index="",
                            cc_base=srv.url)
            runs = {mode: _run(extract_command, spark, cfg, work, srv, index, a.repeat)
                    for mode, index in (("full_scan", None), ("index", ""))}
        result[name] = {"latency_ms": latency * 1000, "mbps": rate / 1e6, **runs,
                        "warc_byte_ratio": round(runs["index"]["warc_bytes"] / runs["full_scan"]["warc_bytes"], 4),
                        "total_byte_ratio": round(runs["index"]["bytes"] / runs["full_scan"]["bytes"], 4),
                        "speedup": round(runs["full_scan"]["seconds"] / runs["index"]["seconds"], 2)}
    full = spark.read.parquet(str(work / "full_scan" / "records")).where("outcome = 'kept'")
    index = spark.read.parquet(str(work / "index" / "records"))
    selected = index.select("source_file", "source_offset")
    full_on_selected = {tuple(r) for r in full.join(selected, ["source_file", "source_offset"])
                        .select("doc_id", "text").collect()}  # benchmark check on a small crawl
    index_kept = {tuple(r) for r in index.where("outcome = 'kept'").select("doc_id", "text").collect()}
    result.update({"load_average_1m_at_end": round(os.getloadavg()[0], 1),
                   "same_documents_on_selected_records": index_kept == full_on_selected,
                   "documents_only_in_full_scan": result["local"]["full_scan"]["kept"] - len(full_on_selected)})
    groups = [[(r["offset"], r["length"]) for r in row["ranges"]]  # one row per WARC file of a bench crawl
              for row in spark.read.parquet(str(work / "index" / "index-selection")).select("ranges").collect()]
    full_bytes = result["local"]["full_scan"]["warc_bytes"]
    result["range_merging"] = []
    for gap in (0, 16 << 10, 64 << 10, 256 << 10, 1 << 20):
        spans = [span for ranges in groups for span in coalesce(ranges, gap)]
        fetched = sum(n for _, n, _ in spans)
        result["range_merging"].append({"merge_gap": gap, "requests": len(spans), "bytes": fetched,
                                        "byte_ratio": round(fetched / full_bytes, 4)})
    save("ccindex", result)


def _run(extract_command, spark, cfg, work: Path, srv, index: str | None, repeat: int) -> dict:
    """Best of `repeat` runs of one mode, with what the server sent during the last one."""
    mode = "full_scan" if index is None else "index"
    best = float("inf")
    for _ in range(repeat):
        srv.reset_counts()
        start = time.perf_counter()
        counts = extract_command(spark, cfg, str(work / mode), CRAWL, [], source="commoncrawl", index=index,
                                 cc_base=srv.url)
        best = min(best, time.perf_counter() - start)
    return {"seconds": round(best, 2), "bytes": srv.sent(), "warc_bytes": srv.sent(".warc.gz"),
            "requests": sum(srv.requests.values()), "records": counts["records"], "kept": counts["kept"]}


if __name__ == "__main__":
    main()
