"""From versions to training, with real Spark: a published version copied alone elsewhere decodes with its own
tokenizer, loads with `datasets.load_dataset`, and verifies against its manifest (a flipped byte fails); two
versions form a chain whose diff is an increment; the printed Megatron-LM arguments build a GPT dataset with
megatron-core whose samples decode back to the published text; the tokenizer pin refuses toy vocabularies.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jwc.jobs.cli import main
from jwc.pipeline.tokens.hf_export import agreement
from jwc.pipeline.tokens.megatron import read_documents
from jwc.pipeline.tokens.tokenizer import load_tokenizer
from jwc.pipeline.versions.chain import resolve_dataset, training_args
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.verify import verify_folder
from tests.publish_run import DATASET, FILTER_1, FILTER_2, context, finish_run, make_docs, seed_stages


@pytest.fixture(scope="module")
def chain(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two nightlies into one store: v0001 = documents 0..119, v0002 = documents 100..199 (20 overlap)."""
    store = tmp_path_factory.mktemp("handoff")
    runs = {}
    for crawl, docs, counts in (("crawl-1", make_docs(range(120)), FILTER_1),
                                ("crawl-2", make_docs(range(100, 200)), FILTER_2)):
        ctx = context(spark, store, crawl)
        seed_stages(ctx, docs, counts, files=2, order_seed=5)
        runs[crawl] = finish_run(ctx)
    dataset_dir = store / "datasets" / DATASET
    return {"store": store, "dataset_dir": dataset_dir, "runs": runs}


def _shard_texts(version_dir: Path) -> list[str]:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    return [t for s in manifest["shards"]
            for t in pq.read_table(version_dir / s["parquet"], columns=["text"]).column(0).to_pylist()]


def test_a_copied_version_decodes_loads_and_verifies_alone(chain: dict[str, Any], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    copy = tmp_path / "elsewhere" / "v0001"
    shutil.copytree(chain["dataset_dir"] / "versions" / "v0001", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    texts = _shard_texts(copy)
    assert len(texts) == manifest["totals"]["documents"] == 120

    # (a) the tokenizer inside the copy decodes the bins back to the shards' text, document by document
    tok = load_tokenizer(copy / manifest["tokenizer"]["files"]["model"])
    assert tok.id == manifest["tokenizer"]["id"]
    decoded = []
    for shard in manifest["shards"]:
        for ids in read_documents(copy / shard["tokens_prefix"]):
            assert int(ids[-1]) == tok.eos_id
            decoded.append(tok.decode(ids[:-1]))
    assert decoded == texts
    # ... and so does the exported Hugging Face tokenizer.json, with the same ids
    hf = (copy / manifest["tokenizer"]["files"]["hf"]).read_text()
    measured = agreement(tok.model, hf, texts)
    print(f"HF export vs SentencePiece on the version's 120 texts: {measured}")
    assert measured["lossless_decode"] == 1.0 and measured["same_ids"] >= 0.95

    # (b) datasets.load_dataset on the folder reads the documents, not the stats or anything else
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset(str(copy), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert loaded.num_rows == 120 and sorted(loaded["text"]) == sorted(texts)
    assert set(loaded.column_names) >= {"text", "doc_id", "url", "lang_score"}
    card = (copy / "README.md").read_text()
    assert "path: \"shards/*.parquet\"" in card and "one increment" in card and "crawl-1" in card

    # (c) verify passes on the copy; one flipped byte in a shard fails it, naming the file
    assert verify_folder(copy)["ok"] and main(["versions", "verify", "v0001", "--path", str(copy)]) == 0
    assert "OK" in capsys.readouterr().out
    victim = copy / manifest["shards"][0]["parquet"]
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    assert main(["versions", "verify", "v0001", "--path", str(copy)]) == 1
    err = capsys.readouterr().err
    assert manifest["shards"][0]["parquet"] in err and "FAILED" in err


def test_shard_names_are_unique_across_versions(chain: dict[str, Any], tmp_path: Path) -> None:
    """Both versions' shards and token files copied into one folder: nothing collides."""
    merged = tmp_path / "together"
    for version in ("v0001", "v0002"):
        src = chain["dataset_dir"] / "versions" / version
        for sub in ("shards", "tokens"):
            shutil.copytree(src / sub, merged / sub, dirs_exist_ok=True)
    copied = sorted(p.name for p in merged.rglob("*") if p.is_file())
    published = sorted(p.name for v in ("v0001", "v0002") for sub in ("shards", "tokens")
                       for p in (chain["dataset_dir"] / "versions" / v / sub).iterdir())
    assert copied == published and any("-v0002-" in n for n in copied)


def test_diff_is_an_increment_and_the_chain_lists_both(chain: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    store = str(chain["store"])
    assert main(["versions", "diff", "v0001", "v0002", "--store", store, "--dataset", DATASET]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["kind"] == "increment" and diff["increments"] == ["v0002"]
    assert diff["documents"] == {"old": 120, "new": 100, "new_documents": 80, "overlap_with_old": 20,
                                 "dataset_before": 120, "dataset_after": 220}
    assert main(["versions", "chain", "--store", store, "--dataset", DATASET, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    m1, m2 = (read_manifest(chain["dataset_dir"], v) for v in ("v0001", "v0002"))
    assert [(r["version"], r["parent"], r["documents"], r["cumulative_documents"]) for r in rows] == [
        ("v0001", None, 120, 120), ("v0002", "v0001", 100, 220)]
    assert rows[1]["cumulative_tokens"] == m1["totals"]["tokens"] + m2["totals"]["tokens"]
    assert main(["versions", "chain", "v0001", "--store", store, "--dataset", DATASET]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2 and table[1].split()[0] == "v0001"


def test_train_args_cover_the_chain_weighted_by_tokens(chain: dict[str, Any],
                                                       capsys: pytest.CaptureFixture) -> None:
    resolved = resolve_dataset(chain["dataset_dir"], "v0002")
    args = training_args(resolved)
    manifests = [read_manifest(chain["dataset_dir"], v) for v in ("v0001", "v0002")]
    shards = [s for m in manifests for s in m["shards"]]
    path = args["megatron"][args["megatron"].index("--data-path") + 1: args["megatron"].index("--tokenizer-type")]
    weights, prefixes = [float(w) for w in path[0::2]], path[1::2]
    assert len(prefixes) == len(shards) and sum(weights) == pytest.approx(1.0)
    total = sum(s["tokens"] for s in shards)
    assert weights == pytest.approx([s["tokens"] / total for s in shards])
    assert all(Path(p + ".bin").is_file() and Path(p + ".idx").is_file() for p in prefixes)
    assert args["megatron"][args["megatron"].index("--tokenizer-type") + 1] == "GPTSentencePieceTokenizer"
    model = args["megatron"][args["megatron"].index("--tokenizer-model") + 1]
    assert load_tokenizer(model).id == manifests[1]["tokenizer"]["id"]
    assert [str(x) for x in args["nemo"]["model.data.data_prefix"]] == path and args["tokens"] == total
    assert main(["versions", "train-args", "--store", str(chain["store"]), "--dataset", DATASET]) == 0
    out = capsys.readouterr().out
    assert "--data-path" in out and prefixes[-1] in out and "model.data.data_prefix=" in out


def test_megatron_core_gpt_dataset_over_two_versions(chain: dict[str, Any], tmp_path: Path) -> None:
    """The printed --data-path and tokenizer build megatron-core's blended GPT dataset; every sample is a window
    of the published token stream and decodes to published text."""
    torch = pytest.importorskip("torch")
    gpt = pytest.importorskip("megatron.core.datasets.gpt_dataset")
    builder = pytest.importorskip("megatron.core.datasets.blended_megatron_dataset_builder")
    args = training_args(resolve_dataset(chain["dataset_dir"], "v0002"))
    argv = args["megatron"]
    path = argv[argv.index("--data-path") + 1: argv.index("--tokenizer-type")]
    tok = load_tokenizer(argv[argv.index("--tokenizer-model") + 1])
    documents = [",".join(map(str, ids[:-1].tolist())) for prefix in path[1::2] for ids in read_documents(prefix)]
    texts = set()
    for version in ("v0001", "v0002"):
        texts |= set(_shard_texts(chain["dataset_dir"] / "versions" / version))

    class _Tok:  # what GPTDataset asks of a tokenizer: the end-of-document id and the vocabulary size
        eod = tok.eos_id
        vocab_size = tok.vocab_size
        unique_identifiers = {"class": "jwc", "id": tok.id}

    config = gpt.GPTDatasetConfig(
        random_seed=7, sequence_length=512, blend=(path[1::2], [float(w) for w in path[0::2]]),
        split="100,0,0", tokenizer=_Tok(), reset_position_ids=False, reset_attention_mask=False,
        eod_mask_loss=False, path_to_cache=str(tmp_path / "cache"))
    # A one-process group, as a Megatron-LM launch has: the builder asks the process group for its rank.
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        train, _, _ = builder.BlendedMegatronDatasetBuilder(gpt.GPTDataset, [40, 0, 0], lambda: True,
                                                            config).build()
    finally:
        torch.distributed.destroy_process_group()
    whole = 0
    for i in range(len(train)):
        # GPTDataset shuffles documents, then cuts windows: a sample is the end of one published document, whole
        # documents, and the start of another, separated by the eos id.
        joined = "," + ",".join(str(int(t)) for t in train[i]["tokens"]) + ","
        segments = [seg.strip(",") for seg in joined.split(f",{tok.eos_id},")]
        assert any(d.endswith(segments[0]) for d in documents) and any(d.startswith(segments[-1]) for d in documents)
        for segment in segments[1:-1]:
            assert segment in documents and tok.decode([int(t) for t in segment.split(",")]) in texts
            whole += 1
    assert len(train) >= 40 and whole > 0  # the blend asks each shard for a few extra samples


def test_lang_score_is_a_probability() -> None:
    """fastText returns softmax + 1e-5, so a sure prediction came back above 1; lang_score is clamped to 1."""
    from jwc.pipeline.extract.langid import identify

    texts = ["今日は朝から雨が降っていたので、駅まで歩いて行くのをやめてバスに乗りました。" * 3,
             "This is an English sentence about the weather in Tokyo today."]
    scores = identify(texts)
    assert scores[0]["ja"] == 1.0 and max(scores[1].values()) <= 1.0
    assert all(0.0 <= p <= 1.0 for s in scores for p in s.values())
