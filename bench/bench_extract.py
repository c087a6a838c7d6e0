"""Extract stage vs a plain warcio -> trafilatura -> fastText loop, on a crawl-like mix (5% Japanese).

The stage runs in Spark local[2] over several WARC files; the baseline runs in this process on one core over the
same files. Rates are given per core of wall time and per CPU second of the whole process tree (JVM and Python
workers included), which stays fair on a busy machine. "Same Japanese output" is checked: the record ids each
side keeps as Japanese.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import generated_crawl, save, timed  # noqa: E402


def baseline(paths: list[Path]) -> tuple[int, set[str]]:
    """The naive pipeline: every HTML response through trafilatura, then fastText; no pre-filter, no batching."""
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    from pipeline.langid import load_model

    model = load_model()
    records = 0
    japanese: set[str] = set()
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                records += 1
                if rec.rec_type != "response" or rec.http_headers.get_statuscode() != "200":
                    continue
                if "html" not in (rec.http_headers.get_header("Content-Type") or ""):
                    continue
                body = rec.content_stream().read()
                text = trafilatura.extract(body)
                if not text:
                    continue
                labels, probs = model.predict(" ".join(text.split()), k=1)
                if labels[0] == "__label__ja" and probs[0] >= 0.5:
                    japanese.add(rec.rec_headers.get_header("WARC-Record-ID"))
    return records, japanese


def ours(paths: list[Path], out: Path, cores: int) -> tuple[int, set[str]]:
    from jobs.extract import run_extract
    from pipeline import config
    from pipeline.inputs import resolve_inputs
    from pipeline.spark import get_session

    spark = get_session("bench-extract", master=f"local[{cores}]")
    cfg = config.load(overrides={"run": {"progress_seconds": 0}})
    counts = run_extract(spark, resolve_inputs(spark, [str(p) for p in paths]), str(out), cfg, "BENCH")
    kept = spark.read.parquet(str(out / "records")).where("outcome = 'kept'").select("warc_record_id")
    ids = {r[0] for r in kept.toLocalIterator()}  # benchmark check only: ids of a small bench crawl
    return counts["records"], ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=4000, help="response records per file")
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--ja-fraction", type=float, default=0.05)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jwc-bench-extract-"))
    paths = [generated_crawl(work / "in", args.records, seed, args.ja_fraction)[0] for seed in range(args.files)]
    # Warm the Spark session and the fastText model outside both timings.
    from pipeline.langid import load_model
    from pipeline.spark import get_session

    load_model()
    get_session("bench-extract", master=f"local[{args.cores}]")
    with timed() as t_ours:
        n_ours, ja_ours = ours(paths, work / "out", args.cores)
    with timed() as t_base:
        n_base, ja_base = baseline(paths)
    ours_rate = n_ours / t_ours["seconds"] / args.cores
    base_rate = n_base / t_base["seconds"]
    ours_cpu_rate = n_ours / t_ours["cpu_seconds"]
    base_cpu_rate = n_base / t_base["cpu_seconds"]
    agree = len(ja_ours & ja_base) / max(1, len(ja_ours | ja_base))
    save("extract", {
        "records": n_ours, "files": args.files, "ja_fraction": args.ja_fraction, "cores": args.cores,
        "ours_seconds": round(t_ours["seconds"], 2), "baseline_seconds": round(t_base["seconds"], 2),
        "ours_records_per_s_per_core": round(ours_rate, 1), "baseline_records_per_s_per_core": round(base_rate, 1),
        "speedup_per_core": round(ours_rate / base_rate, 2),
        "ours_cpu_seconds": round(t_ours["cpu_seconds"], 2), "baseline_cpu_seconds": round(t_base["cpu_seconds"], 2),
        "ours_records_per_cpu_second": round(ours_cpu_rate, 1),
        "baseline_records_per_cpu_second": round(base_cpu_rate, 1),
        "speedup_per_cpu_second": round(ours_cpu_rate / base_cpu_rate, 2),
        "japanese_ours": len(ja_ours), "japanese_baseline": len(ja_base),
        "japanese_only_ours": len(ja_ours - ja_base), "japanese_only_baseline": len(ja_base - ja_ours),
        "japanese_agreement_jaccard": round(agree, 4),
    })


if __name__ == "__main__":
    main()
