"""Crawl-scale rehearsal: the whole nightly on 200,000 responses in 20 files and on a quarter of it; per-stage costs.

    python bench/bench_rehearsal.py [--files 20] [--records-per-file 10000] [--ja-fraction 0.05] [--cores 2]
    python -m bench --only rehearsal

Fixed costs (Spark jobs, tokenizer training, the report) hide what a crawl costs when the input is small, so this
runs the nightly at two sizes that both dwarf them: all `--files` WARC files and their first quarter, each in a
fresh driver process and a fresh store (after a warm-up run in that process, as bench_nightly does). For each stage
it takes the wall seconds (the stage's `_STAGE.json`) and the CPU seconds of the whole process tree (driver Python,
JVM, Python workers; psutil, sampled every 0.2 s) and reports the marginal cost per 1,000 responses:
(full - quarter) / (delta responses / 1,000), in wall-core-seconds (wall x cores: what a machine is busy for, which
on a shared machine includes waiting for the neighbours) and in CPU seconds (what the work itself used). Also the
driver's memory at both sizes (Python RSS, JVM RSS and used heap peaks, JVM live heap after the run).

Projections for one Common Crawl dump (`--dump-responses`, 2.5 billion): core-hours = marginal seconds per response
x responses / 3,600, for a full scan (every stage) and for index mode. Index mode reads only the records the URL
index selects (CLD2 says `jpn`, status 200, HTML), so its extract stage costs the full scan's x the CPU share of those
records, measured in this run by one process reading the same file both ways (least CPU time of 3) (RecordProcessor over the whole file,
and over the selected byte ranges from the truth file, as bench_ccindex's emulated index selects them); the later
stages see about the same Japanese documents and cost the same. Reading the index table itself is not counted.

The tokenize stage encodes with a SentencePiece model trained beforehand on a held-out generated file (cached), as
every nightly after a dataset's first does; `--train-tokenizer` makes each run train its own instead (the first
nightly of a dataset), whose cost grows with the documents up to `train_sample_docs` and so is not a per-response
cost of a dump.

Baseline, measured in the same run: the plain warcio loop (every record of one file read with its payload, the
least any reader does), in CPU seconds per 1,000 responses; the nightly's marginal cost is printed as a multiple
of it. Inputs come from ../shared/tools/make_warc_corpus.py, cached by their arguments under the temp folder.
Prints a markdown table and JSON (bench/results/rehearsal.json).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_nightly import measure  # noqa: E402
from bench.common import generated_crawl, save  # noqa: E402

SEED = 5_000_000  # file i of every rehearsal is generated with seed SEED + i, so the quarter is a prefix of the whole
DUMP_RESPONSES = 2.5e9
INDEX_MISS_SHARE = 0.1  # Japanese pages the emulated CLD2 labels English only (as in bench_ccindex)


def crawl(cache: Path, files: int, per_file: int, ja_fraction: float) -> list[tuple[Path, Path]]:
    """(WARC, truth) of the rehearsal's first `files` files."""
    return [generated_crawl(cache, per_file, SEED + i, ja_fraction) for i in range(files)]


def held_out_tokenizer(cache: Path) -> Path:
    """A 32k SentencePiece model trained on the Japanese article texts of a generated file that is not an input
    (cached): the measured runs encode with it, as every nightly after a dataset's first does, instead of training
    their own on a sample that grows with the input (a dump trains, if at all, once on a capped sample)."""
    from jwc.pipeline.tokens.tokenizer import train_sentencepiece

    out = cache / "rehearsal-tokenizer"
    model = out / "held-out.model"
    if not model.is_file():
        _, truth = generated_crawl(cache, 4000, SEED - 1, 0.6)  # a Japanese-rich file outside the inputs
        texts = [t["article_text"] for t in map(json.loads, truth.read_text().splitlines()) if t.get("article_text")]
        train_sentencepiece(texts, out, name="held-out")
    return model


def warcio_loop_cpu(warc: Path) -> tuple[int, float]:
    """(response/revisit records, CPU seconds) of reading every record of one file with its payload."""
    from warcio.archiveiterator import ArchiveIterator

    responses = 0
    started = time.process_time()
    with open(warc, "rb") as fh:
        for rec in ArchiveIterator(fh):
            rec.content_stream().read()
            responses += rec.rec_type in ("response", "revisit")
    return responses, time.process_time() - started


def index_selected_ranges(truth: Path) -> list[tuple[int, int]]:
    """The (offset, length) of the records the emulated CC index selects: CLD2 says jpn, status 200, HTML."""
    from tests.ccserver import index_rows

    rows = index_rows([json.loads(line) for line in truth.read_text().splitlines()], truth.name, INDEX_MISS_SHARE)
    return sorted((r["warc_record_offset"], r["warc_record_length"]) for r in rows
                  if r["fetch_status"] == 200 and "html" in r["content_mime_detected"]
                  and "jpn" in (r["content_languages"] or ""))


def best_cpu(work: Callable[[], int], repeat: int = 3) -> tuple[int, float]:
    """(result, least CPU seconds of this process) over `repeat` runs: a shared machine only adds time."""
    runs = []
    for _ in range(repeat):
        started = time.process_time()
        result = work()
        runs.append((result, time.process_time() - started))
    return runs[0][0], min(seconds for _, seconds in runs)


def index_extract_share(warc: Path, truth: Path) -> dict[str, Any]:
    """CPU seconds of the extract processor over the whole file and over only the index-selected records."""
    from jwc.pipeline import config as config_mod
    from jwc.pipeline.extract.records import RecordProcessor

    cfg = config_mod.load()
    processor = RecordProcessor(cfg["extract"], cfg["langid"], "REHEARSAL", cfg["commoncrawl"])
    ranges = index_selected_ranges(truth)
    list(processor.process_ranges(str(warc), ranges[:20]))  # models and dictionaries loaded before timing
    full_rows, full = best_cpu(lambda: sum(1 for _ in processor.process_file(str(warc))))
    selected_rows, selected = best_cpu(lambda: sum(1 for _ in processor.process_ranges(str(warc), ranges)))
    return {"full_scan_cpu_seconds": round(full, 2), "full_scan_rows": full_rows,
            "selected_records": len(ranges), "selected_rows": selected_rows,
            "index_cpu_seconds": round(selected, 2), "cpu_share": round(selected / full, 4)}


def run_size(args: argparse.Namespace, files: int) -> dict[str, Any]:
    """The nightly over the first `files` files, measured in a fresh driver process."""
    cmd = [sys.executable, __file__, "--single", str(files), "--records-per-file", str(args.records_per_file),
           "--ja-fraction", str(args.ja_fraction), "--cores", str(args.cores), "--cache", args.cache,
           "--tokenizer", args.tokenizer]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def marginal(small: dict[str, Any], big: dict[str, Any], cores: int) -> dict[str, dict[str, float]]:
    """Per stage (and "total"): marginal wall-core-seconds and CPU seconds per 1,000 responses."""
    per_k = (big["response_records"] - small["response_records"]) / 1000
    stages = list(big["stage_seconds"]) + ["between stages"]
    out = {}
    for stage in stages:
        wall = (big["stage_seconds"].get(stage, 0.0) - small["stage_seconds"].get(stage, 0.0)) * cores
        cpu = big["stage_cpu_seconds"].get(stage, 0.0) - small["stage_cpu_seconds"].get(stage, 0.0)
        out[stage] = {"wall_core_s_per_1k": round(wall / per_k, 3), "cpu_s_per_1k": round(cpu / per_k, 3)}
    out["total"] = {"wall_core_s_per_1k": round((big["seconds"] - small["seconds"]) * cores / per_k, 3),
                    "cpu_s_per_1k": round((big["cpu_seconds"] - small["cpu_seconds"]) / per_k, 3)}
    return out


def projections(costs: dict[str, dict[str, float]], index_share: float, responses: float) -> dict[str, Any]:
    """Core-hours for `responses` responses, full scan and index mode, in wall-core and CPU terms."""
    out = {}
    for unit in ("wall_core_s_per_1k", "cpu_s_per_1k"):
        full = costs["total"][unit]
        index = full - costs["extract"][unit] * (1 - index_share)
        out[unit.replace("_s_per_1k", "_hours")] = {"full_scan": round(full * responses / 1000 / 3600),
                                                    "index_mode": round(index * responses / 1000 / 3600)}
    return out


def markdown(result: dict[str, Any]) -> str:
    """The table for docs/operations.md."""
    q, f, m = result["quarter"], result["full"], result["marginal"]
    lines = [f"| stage | wall s ({q['response_records']:,}) | wall s ({f['response_records']:,}) | "
             f"CPU s ({q['response_records']:,}) | CPU s ({f['response_records']:,}) | "
             "marginal wall-core s / 1k | marginal CPU s / 1k |", "|---|---:|---:|---:|---:|---:|---:|"]
    for stage, cost in m.items():
        if stage == "total":
            qw, fw, qc, fc = q["seconds"], f["seconds"], q["cpu_seconds"], f["cpu_seconds"]
        else:
            qw, fw = q["stage_seconds"].get(stage, 0.0), f["stage_seconds"].get(stage, 0.0)
            qc, fc = q["stage_cpu_seconds"].get(stage, 0.0), f["stage_cpu_seconds"].get(stage, 0.0)
        lines.append(f"| {stage} | {qw:.1f} | {fw:.1f} | {qc:.1f} | {fc:.1f} | {cost['wall_core_s_per_1k']:.3f} | "
                     f"{cost['cpu_s_per_1k']:.3f} |")
    rate, proj, base = result["marginal_rate"], result["projected_core_hours"], result["baseline"]
    mem_q, mem_f = q["driver_peak"], f["driver_peak"]
    lines += ["",
              f"- marginal rate of the whole nightly: {rate['per_wall_core_second']:,.0f} responses per wall-core-"
              f"second, {rate['per_cpu_second']:,.0f} per CPU-second",
              f"- projected core-hours per dump ({result['dump_responses']:.2g} responses): full scan "
              f"{proj['wall_core_hours']['full_scan']:,} (wall-core) / {proj['cpu_hours']['full_scan']:,} (CPU); "
              f"index mode {proj['wall_core_hours']['index_mode']:,} / {proj['cpu_hours']['index_mode']:,} "
              f"(extract CPU share of the index-selected records {result['index_mode']['cpu_share']:.1%})",
              f"- driver: Python RSS peak {mem_q['python_rss_mb']:.0f} -> {mem_f['python_rss_mb']:.0f} MB, JVM used "
              f"heap peak {mem_q['jvm_heap_used_mb']:.0f} -> {mem_f['jvm_heap_used_mb']:.0f} MB, JVM live heap after "
              f"the run {q['driver_live_heap_mb_end']:.0f} -> {f['driver_live_heap_mb_end']:.0f} MB, JVM RSS peak "
              f"{mem_q['jvm_rss_mb']:.0f} -> {mem_f['jvm_rss_mb']:.0f} MB",
              f"- baseline (same run): plain warcio loop {base['cpu_s_per_1k']:.3f} CPU s / 1k responses; the "
              f"nightly's marginal CPU cost is x{result['nightly_vs_warcio_cpu']:.1f} of it",
              f"- machine: {os.cpu_count()} cores, local[{result['spark_cores']}], load average "
              f"{result['load_average_before']} before / {result['load_average_1m']} after (1 min)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20, help="WARC files of the full size (the quarter: files / 4)")
    ap.add_argument("--records-per-file", type=int, default=10_000, help="response/revisit records per file")
    ap.add_argument("--ja-fraction", type=float, default=0.05, help="share of Japanese pages (0.05 ~ a real crawl)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--dump-responses", type=float, default=DUMP_RESPONSES)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "jwc-bench-crawls"))
    ap.add_argument("--train-tokenizer", action="store_true",
                    help="each run trains its store's first tokenizer (as bench_nightly does) instead of encoding "
                         "with a held-out one")
    ap.add_argument("--single", type=int, help=argparse.SUPPRESS)  # internal: measure the first N files here
    ap.add_argument("--tokenizer", default="", help=argparse.SUPPRESS)  # internal: the model --single encodes with
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    if args.single:
        files = [w for w, _ in crawl(cache, args.single, args.records_per_file, args.ja_fraction)]
        print(json.dumps(measure(files, args.single * args.records_per_file, args.cores, cache, args.ja_fraction,
                                 args.tokenizer)))
        return {}
    if args.files < 4:
        ap.error("--files must be at least 4 (the quarter is files / 4)")
    inputs = crawl(cache, args.files, args.records_per_file, args.ja_fraction)
    args.tokenizer = "" if args.train_tokenizer else str(held_out_tokenizer(cache))
    load_before = round(os.getloadavg()[0], 1)
    quarter, full = run_size(args, args.files // 4), run_size(args, args.files)
    costs = marginal(quarter, full, args.cores)
    base_responses, base_cpu = warcio_loop_cpu(inputs[0][0])
    base = {"what": "warcio ArchiveIterator reading every record's payload, one process", "responses": base_responses,
            "cpu_seconds": round(base_cpu, 2), "cpu_s_per_1k": round(base_cpu / base_responses * 1000, 4)}
    index = index_extract_share(*inputs[0])
    total = costs["total"]
    result = {"files": args.files, "records_per_file": args.records_per_file, "ja_fraction": args.ja_fraction,
              "tokenizer": args.tokenizer or "trained by each run",
              "spark_cores": args.cores, "dump_responses": args.dump_responses, "load_average_before": load_before,
              "load_average_1m": round(os.getloadavg()[0], 1), "quarter": quarter, "full": full, "marginal": costs,
              "marginal_rate": {"per_wall_core_second": round(1000 / total["wall_core_s_per_1k"], 1),
                                "per_cpu_second": round(1000 / total["cpu_s_per_1k"], 1)},
              "projected_core_hours": projections(costs, index["cpu_share"], args.dump_responses),
              "index_mode": index, "baseline": base,
              "nightly_vs_warcio_cpu": round(total["cpu_s_per_1k"] / base["cpu_s_per_1k"], 2),
              "time_ratio": round(full["seconds"] / quarter["seconds"], 2)}
    save("rehearsal", result)
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
