"""The tokenizer pin is deliberate, in real Spark: the first nightly on the demo sample stops before tokenizing
instead of pinning a toy vocabulary; a too-small tokenizer is refused unless forced as a toy; pinning on a real
sample (Wikinews articles) gives the requested vocabulary, and its HF export encodes held-out text alike."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from jwc.jobs.cli import main as cli
from jwc.jobs.filter import redecide
from jwc.jobs.nightly import nightly
from jwc.jobs.tokenize import NoTokenizerPinned, TokenizerTooSmall, train_tokenizer
from jwc.pipeline import config as config_mod
from jwc.pipeline.sample.generate import generate_sample
from jwc.pipeline.tokens.hf_export import agreement, sentencepiece_to_hf
from jwc.pipeline.tokens.tokenizer import load_tokenizer
from jwc.pipeline.versions.ids import published_versions
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.pins import TOKENIZER_INFO, read_pin
from jwc.pipeline.versions.verify import verify_folder
from tests.helpers import shared_data

CRAWL = "SAMPLE-2026-48"


def test_first_nightly_on_the_demo_sample_pins_no_toy_vocabulary(spark: Any, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    warc = tmp_path / "sample.warc.gz"
    generate_sample(str(warc), records=300, seed=0)
    store = tmp_path / "store"
    dataset_dir = store / "datasets" / "ja-web"
    with pytest.raises(NoTokenizerPinned, match="jwc train-tokenizer"):
        nightly(CRAWL, [str(warc)], str(store))
    run = store / "runs" / CRAWL
    assert read_pin(dataset_dir) is None and published_versions(dataset_dir) == []
    assert (run / "shards" / "_STAGE.json").is_file() and not (run / "tokenize").exists()

    # Training during the nightly is allowed by config, but the sample's vocabulary is far below the 32,000 asked.
    cfg = tmp_path / "train.toml"
    cfg.write_text('[tokenize]\non_no_pin = "train"\n')
    with pytest.raises(TokenizerTooSmall, match="asked for"):
        nightly(CRAWL, [str(warc)], str(store), str(cfg))
    assert read_pin(dataset_dir) is None

    # The deliberate step on the run's shards: refused as too small, then forced as a labelled toy.
    args = ["train-tokenizer", "--store", str(store), "--input", str(run / "shards"), "--pin"]
    assert cli(args) == 2 and "not pinning" in capsys.readouterr().err and read_pin(dataset_dir) is None
    assert cli([*args, "--vocab-size", "2000", "--toy"]) == 0
    assert "PINNED TOY TOKENIZER" in capsys.readouterr().err
    pin = read_pin(dataset_dir)
    assert pin is not None
    results = nightly(CRAWL, [str(warc)], str(store))  # resumes at tokenize with the pinned tokenizer
    assert results["publish"]["version"] == "v0001"
    assert read_manifest(dataset_dir, "v0001")["tokenizer"]["id"] == pin["id"]

    # jwc runs clean: a dry run first, then the published run loses all but filter/ and the stage markers.
    assert cli(["runs", "clean", "--store", str(store), "--dry-run"]) == 0
    assert "would remove" in capsys.readouterr().out and (run / "extract" / "records").is_dir()
    assert cli(["runs", "clean", "--store", str(store)]) == 0
    assert "freed" in capsys.readouterr().out
    assert not (run / "extract" / "records").exists() and not (run / "dedup" / "documents").exists()
    assert (run / "filter" / "documents").is_dir() and (run / "tokenize" / "_STAGE.json").is_file()
    assert nightly(CRAWL, [str(warc)], str(store)) == results  # the rerun still finds every stage done
    assert verify_folder(dataset_dir / "versions" / "v0001")["ok"]  # the version's files are untouched
    same = redecide(spark, str(run / "filter"), config_mod.load(), str(tmp_path / "redecided"))
    assert same["after"] == same["before"] and same["before"]["documents"] > 0


def _wikinews() -> list[str]:
    """The shared Wikinews articles, with the word-separating spaces of the corpus file removed."""
    path = shared_data("ja_text_wikinews", "articles-a.tsv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh][1:]
    return [re.sub(r"(?<=\S) (?=\S)", "", r[1]).replace("  ", "\n") for r in rows if len(r) > 1 and r[1]]


def test_pinning_on_a_real_sample_gives_the_requested_vocabulary(spark: Any, tmp_path: Path) -> None:
    articles = _wikinews()
    build, held_out = articles[:1500], articles[1500:]  # trained on the first, measured on the rest
    data = tmp_path / "wikinews.jsonl"
    data.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in build), encoding="utf-8")
    store = tmp_path / "store"
    dataset_dir = store / "datasets" / "ja-news"
    tcfg = config_mod.load(overrides={"tokenize": {"vocab_size": 8000}})["tokenize"]
    dataset_dir.mkdir(parents=True)
    info = train_tokenizer(spark, dataset_dir, [], tcfg, pin=True, inputs=[str(data)])
    assert info["vocab_size"] == 8000 and info["problems"] == [] and info["pinned"] is True
    assert read_pin(dataset_dir)["id"] == info["id"]
    stored = dataset_dir / "tokenizer" / info["folder"]
    assert json.loads((stored / TOKENIZER_INFO).read_text())["source"]["trained_on"]["sample_docs"] == 1500
    tok = load_tokenizer(stored / info["file"])
    hf = sentencepiece_to_hf(tok.model)
    assert hf is not None
    measured = agreement(tok.model, hf, held_out)
    chars = sum(map(len, held_out)) / sum(len(ids) for ids in tok.encode_batch(held_out))
    print(f"vocab 8000 on 1,500 Wikinews articles; held-out {len(held_out)}: {chars:.2f} chars/token, "
          f"HF export {measured}")
    assert measured["lossless_decode"] == 1.0 and measured["same_ids"] >= 0.95
