"""`python -m bench`: every benchmark in one command, at small sizes; a table and bench/results/all.json.

Runs each stage's benchmark (bench/bench_<name>.py) in its own process, then the whole nightly on a generated
crawl-like mix (bench_nightly.py at 1x and 4x input). For each it prints a rate per core, the baseline it is compared
with (always measured in the same run, on the same machine and input), the ratio of the two, and where a benchmark
runs two input sizes, the time at 4x input over the time at 1x (4.0 = linear). all.json holds that summary and each
benchmark's full JSON output.

    python -m bench [--only extract,nightly] [--large] [--timeout 3600]

--large runs the nightly at 20,000 and 200,000 response records (the driver-memory check; about 5 minutes on 2
cores once its 11 crawl files are generated and cached). `--only rehearsal` runs the crawl-scale rehearsal
(bench_rehearsal.py: the nightly on 200,000 responses in 20 files and on a quarter of it, marginal cost per stage,
core-hours per Common Crawl dump); it is not part of the default run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CORES = 2  # local[2] for the Spark benchmarks: the size of the project's machines


@dataclass
class Summary:
    """One line of the table."""

    rate: float
    unit: str
    baseline: str
    ratio: float
    scaling: float | None = None  # time at 4x input / time at 1x
    note: str = ""


def _extract(r: dict[str, Any]) -> Summary:
    truth = r["against_truth"]
    return Summary(r["ours_records_per_s_per_core"], "WARC records/s (warm JVM)", "warcio->trafilatura->fastText loop",
                   r["speedup_per_core"],
                   note=f"per CPU-second x{r['speedup_per_cpu_second']}, cold JVM x{r['cold']['speedup_per_core']}; "
                        f"Japanese recall ours {truth['ours']['recall']} vs loop {truth['baseline']['recall']}")


def _filters(r: dict[str, Any]) -> Summary:
    rates = r["docs_per_s_per_core"]
    return Summary(rates["chain_with_fugashi"], "docs/s (2,000 chars)", "Parquet write+read of the same docs",
                   round(rates["chain_with_fugashi"] / rates["parquet_write_and_read"], 3),
                   note=f"without fugashi {rates['chain_without_fugashi']} docs/s")


def _safety(r: dict[str, Any]) -> Summary:
    return Summary(r["ngwords"]["filter_chars_per_s"], "chars/s (NG words)", "naive `in` loop over the list",
                   r["ngwords"]["speedup_over_naive"],
                   note=f"PII detect+mask {r['pii']['detect_and_mask_chars_per_s']:,} chars/s")


def _decontam(r: dict[str, Any]) -> Summary:
    index = r["index"]
    return Summary(r["decontam_chars_per_s_per_core"], "chars/s (decontam filter, in the chain)",
                   "the filter stage's chain without it", r["stage_time_ratio"],
                   note=f"filter's own CPU time +{r['decontam_added_share']:.1%}; "
                        f"{r['items']:,}-item set: index {index['bytes'] / 1e6:.0f} MB shipped + "
                        f"{index['lookup_bytes'] / 1e6:.0f} MB lookup per process")


def _dedup(r: dict[str, Any]) -> Summary:
    sig, e2e = r["signatures"], r["end_to_end_local2"]
    return Summary(sig["ours_docs_per_s_per_core"], "MinHash signatures/s", "datasketch update per shingle",
                   sig["speedup_vs_datasketch"], round(e2e[-1]["seconds"] / e2e[0]["seconds"], 2),
                   note=f"end to end {e2e[-1]['docs_per_s']} docs/s at {e2e[-1]['docs']:,} docs (local[2])")


def _tokenize(r: dict[str, Any]) -> Summary:
    first = r["runs"][0]
    return Summary(first["ours_encode_and_write"]["tokens_per_s_per_core"], "tokens/s (encode + .bin/.idx)",
                   "the tokenizer's own batch encode", first["export_vs_raw_speed"], note=first["tokenizer"])


def _ccindex(r: dict[str, Any]) -> Summary:
    distant = r["distant"]
    rate = r["records"] / distant["index"]["seconds"] / CORES
    return Summary(round(rate, 1), "crawl records covered/s (index mode, distant server)",
                   "full scan of the same files", distant["speedup"],
                   note=f"WARC bytes read {distant['warc_byte_ratio']:.1%} of a full scan")


def _nightly(r: dict[str, Any]) -> Summary:
    first = r["runs"][0]
    peaks = ", ".join(f"{k} x{v}" for k, v in r["driver_peak_ratio"].items())
    return Summary(first["warc_records_per_s_per_core"], "WARC records/s (every stage)",
                   "warcio->trafilatura->fastText loop", r["nightly_vs_baseline_per_core"], r["time_ratio"],
                   note=f"driver at {r['input_ratio']}x input: live heap after the run x{r['driver_live_heap_end_ratio']}, "
                        f"peaks {peaks}")


def _rehearsal(r: dict[str, Any]) -> Summary:
    proj = r["projected_core_hours"]
    return Summary(r["marginal_rate"]["per_wall_core_second"], "responses/s marginal (every stage)",
                   "warcio read loop, CPU s per response", round(1 / r["nightly_vs_warcio_cpu"], 4), r["time_ratio"],
                   note=f"{r['marginal_rate']['per_cpu_second']:,.0f} per CPU-second; core-hours per dump full scan "
                        f"{proj['wall_core_hours']['full_scan']:,} (CPU {proj['cpu_hours']['full_scan']:,}), index "
                        f"mode {proj['wall_core_hours']['index_mode']:,} (CPU {proj['cpu_hours']['index_mode']:,})")


# name -> (small arguments, summary of its JSON). The nightly comes last: it is the longest. The rehearsal (200,000
# responses, about 15 minutes on 2 cores) runs only when asked for (--only rehearsal).
BENCHES: dict[str, tuple[list[str], Callable[[dict[str, Any]], Summary]]] = {
    "extract": (["--records", "4000", "--files", "4", "--cores", str(CORES)], _extract),
    "filters": (["--docs", "300", "--best-of", "1"], _filters),
    "safety": (["--docs", "200", "--repeat", "1"], _safety),
    "decontam": (["--items", "100000", "--docs", "900", "--best-of", "3"], _decontam),
    "dedup": (["--sizes", "1000,4000", "--datasketch-docs", "20"], _dedup),
    "tokenize": (["--copies", "1", "--best-of", "1"], _tokenize),
    "ccindex": (["--files", "2", "--records", "500", "--repeat", "1", "--cores", str(CORES)], _ccindex),
    "nightly": (["--sizes", "2000,8000", "--cores", str(CORES)], _nightly),
    "rehearsal": (["--cores", str(CORES)], _rehearsal),
}
ON_REQUEST = {"rehearsal"}


def last_json(stdout: str) -> dict[str, Any]:
    """The JSON object a benchmark prints last (indented, so it starts with a "{" line)."""
    start = 0 if stdout.startswith("{") else stdout.rindex("\n{") + 1
    return json.JSONDecoder().raw_decode(stdout[start:])[0]


def run(name: str, args: list[str], timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "bench" / f"bench_{name}.py"), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "JWC_SPARK_LOG_LEVEL": "ERROR"})
    seconds = round(time.perf_counter() - started, 1)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}")
    return {"wall_seconds": seconds, "args": args, "output": last_json(proc.stdout)}


def _row(name: str, s: Summary | None, error: str = "") -> str:
    if s is None:
        return f"{name:<9} FAILED: {error.splitlines()[-1] if error else ''}"
    scaling = f"{s.scaling:.2f}" if s.scaling is not None else "-"
    return (f"{name:<9} {s.rate:>12,.1f} {s.unit:<38} {s.ratio:>7.2f}x vs {s.baseline:<36} {scaling:>6}"
            f"  {s.note}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHES)}")
    ap.add_argument("--large", action="store_true", help="nightly at 20,000 and 200,000 response records")
    ap.add_argument("--timeout", type=float, default=3 * 3600, help="seconds per benchmark")
    a = ap.parse_args(argv)
    names = a.only.split(",") if a.only else [n for n in BENCHES if n not in ON_REQUEST]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}")
    print(f"{'bench':<9} {'rate/core':>12} {'unit':<38} {'ratio':>8}    {'baseline (same run)':<36} "
          f"{'4x/1x':>6}  notes", flush=True)
    summary: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for name in names:
        args, summarize = BENCHES[name]
        if name == "nightly" and a.large:
            args = ["--sizes", "20000,200000", "--cores", str(CORES)]
        try:
            outputs[name] = run(name, args, a.timeout)
            line = summarize(outputs[name]["output"])
            summary[name] = asdict(line)
            print(_row(name, line), flush=True)
        except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as exc:
            summary[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(_row(name, None, summary[name]["error"]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "all.json"
    if a.only and path.is_file():  # a partial run updates its own entries and keeps the others
        previous = json.loads(path.read_text())
        summary = {**previous.get("summary", {}), **summary}
        outputs = {**previous.get("results", {}), **outputs}
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
              "load_average_1m": round(os.getloadavg()[0], 1), "summary": summary, "results": outputs}
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return 1 if any("error" in s for s in summary.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
