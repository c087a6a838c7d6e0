"""Version ids, the staging/publish rename, the manifest schema, removal rates, file descriptions, the tokenizer
pin, and the crash-test hook; no Spark (the Spark side is in test_publish_spark.py)."""
from __future__ import annotations

import copy
import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jwc.schemas.config import resolve
from jwc.jobs.stages import RunContext
from jwc.pipeline import config as config_mod
from jwc.pipeline.config import ConfigError
from jwc.pipeline.io.store import Store
from jwc.pipeline.tokens.megatron import IndexedDatasetWriter, bin_path
from jwc.pipeline.tokens.tokenizer import TOKENIZE_PARAMS, load_tokenizer, train_sentencepiece
from jwc.pipeline.versions.code import code_version
from jwc.pipeline.versions.diff import removal_rates
from jwc.pipeline.versions.files import describe_file
from jwc.pipeline.versions.ids import (MANIFEST, VersionError, latest_version, published_versions, reserved_version,
                                      run_version)
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.pins import load_stored_tokenizer, pin_tokenizer, read_pin, store_tokenizer
from jwc.pipeline.versions.staging import publish_folder, staging_dir
from jwc.schemas.manifest import validate_manifest
from tests.helpers import manifest_for, publish_fake

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["東京駅の地下街は朝から通勤客で混み合っていた。", "週末は雨の予報なので、洗濯物は部屋の中に干しておこう。",
         "新しい図書館には子ども向けの絵本コーナーが設けられた。", "会議は午後三時に始まり、議題は来年度の予算案だった。"] * 5


def test_version_ids_are_allocated_once_per_run(tmp_path: Path) -> None:
    ds = tmp_path / "datasets" / "d"
    run1, run2, run3 = (tmp_path / "runs" / c for c in ("c1", "c2", "c3"))
    first = run_version(ds, run1, "c1")
    assert (first.version, first.parent) == ("v0001", None)
    assert run_version(ds, run1, "c1") == first, "a rerun finishes the same version"
    assert (ds / "staging" / "v0001" / "run.json").is_file()
    second = run_version(ds, run2, "c2")  # never published: its id stays a gap
    assert second.version == "v0002"
    publish_fake(ds, "v0001", None)
    assert published_versions(ds) == ["v0001"] and not (ds / "staging" / "v0001").exists()
    third = run_version(ds, run3, "c3")
    assert (third.version, third.parent) == ("v0003", "v0001")
    publish_fake(ds, "v0003", "v0001")
    assert published_versions(ds) == ["v0001", "v0003"] and latest_version(ds) == "v0003"
    assert latest_version(ds, below=3) == "v0001"
    with pytest.raises(VersionError, match="not dataset"):
        run_version(tmp_path / "datasets" / "other", run1, "c1")


def test_a_run_takes_its_version_id_in_one_place(tmp_path: Path) -> None:
    """Dedup and publish both ask RunContext.version(): the first call allocates, every later one reads it back."""
    st = Store.open(tmp_path / "store")
    cfg = config_mod.load(overrides={"run": {"dataset": "d"}})

    def ctx(crawl: str) -> RunContext:
        return RunContext(spark=None, cfg=cfg, store=st, crawl_id=crawl, inputs=[], run_dir=st.run_dir(crawl))

    assert reserved_version(st.run_dir("c1")) is None
    first = ctx("c1").version()
    assert (first.dataset, first.version, first.crawl_id) == ("d", "v0001", "c1")
    assert ctx("c1").version() == first and reserved_version(st.run_dir("c1")) == "v0001"
    assert ctx("c2").version().version == "v0002"


def test_allocation_skips_ids_held_by_other_runs(tmp_path: Path) -> None:
    ds = tmp_path / "d"
    (ds / "staging" / "v0005").mkdir(parents=True)  # another run's reservation
    assert run_version(ds, tmp_path / "r", "c").version == "v0006"


def test_publish_never_replaces_a_version(tmp_path: Path) -> None:
    ds = tmp_path / "d"
    publish_fake(ds, "v0001", None)
    staged = staging_dir(ds, "v0001")
    staged.mkdir(parents=True)
    with pytest.raises(VersionError, match="immutable"):
        publish_folder(staged, ds / "versions" / "v0001")
    assert read_manifest(ds, "v0001")["version"] == "v0001"
    with pytest.raises(VersionError, match="no published version v0002"):
        read_manifest(ds, "v0002")


def test_manifest_schema_names_every_problem() -> None:
    good = manifest_for("v0002", "v0001")
    validate_manifest(good)
    bad = copy.deepcopy(good)
    bad["version"] = "2"
    bad["totals"]["tokens"] = -1
    bad["files"][0]["sha256"] = "abc"
    del bad["tokenizer"]["eos_id"]
    bad["parent"] = 3
    with pytest.raises(ValueError) as err:
        validate_manifest(bad)
    message = str(err.value)
    for where in ("manifest.version", "manifest.totals.tokens", "manifest.files[0].sha256",
                  "manifest.tokenizer: missing 'eos_id'", "manifest.parent: expected string or null"):
        assert where in message
    bool_count = copy.deepcopy(good)
    bool_count["totals"]["documents"] = True
    with pytest.raises(ValueError, match="totals.documents: expected integer"):
        validate_manifest(bool_count)


def test_removal_rates_from_stage_counts() -> None:
    counts = {"extract": {"records": 50, "kept": 40},
              "filter": {"documents": 40, "kept": 30, "removed": 10, "removed_junk.ads": 6, "removed_pii.x": 4},
              "dedup": {"input": 30, "exact_removed": 3, "near_removed": 0, "output": 27},
              "shards": {"documents": 27, "shards": 1}}
    assert removal_rates(counts) == {"filter.junk.ads": 0.15, "filter.pii.x": 0.1, "dedup.exact": 0.1,
                                     "dedup.near": 0.0}


def test_describe_file_reads_parquet_and_token_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": ["a", "b", "c"]}), tmp_path / "s.parquet", row_group_size=2)
    entry = describe_file(("shards/s.parquet", str(tmp_path / "s.parquet")))
    data = (tmp_path / "s.parquet").read_bytes()
    assert entry == {"path": "shards/s.parquet", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                     "rows": 3}
    with IndexedDatasetWriter(tmp_path / "t", vocab_size=100, eos_id=1) as w:
        w.add_batch([[5, 6], [7]])
    entry = describe_file(("tokens/t.idx", str(tmp_path / "t.idx")))
    assert (entry["rows"], entry["tokens"]) == (2, 5)
    with open(bin_path(tmp_path / "t"), "r+b") as fh:
        fh.truncate(4)
    with pytest.raises(ValueError, match="its index needs 10"):
        describe_file(("tokens/t.idx", str(tmp_path / "t.idx")))


def test_tokenizer_is_stored_pinned_and_enforced(tmp_path: Path) -> None:
    from jwc.jobs.tokenize import TokenizerMismatch, check_tokenizer_config, pinned_tokenizer

    ds = tmp_path / "d"
    model_a = train_sentencepiece(TEXTS, tmp_path / "a", vocab_size=300, name="a")
    model_b = train_sentencepiece(TEXTS[:8], tmp_path / "b", vocab_size=290, name="b")
    tok_a, tok_b = load_tokenizer(model_a), load_tokenizer(model_b)
    assert tok_a.id != tok_b.id
    folder = store_tokenizer(ds, tok_a, "", {"path": str(model_a)})
    assert store_tokenizer(ds, tok_a, "", {"path": "elsewhere"}) == folder, "stored once per id"
    assert load_stored_tokenizer(ds, folder).id == tok_a.id
    assert pin_tokenizer(ds, folder, tok_a.id)["id"] == tok_a.id
    other = store_tokenizer(ds, tok_b, "", {})
    assert pin_tokenizer(ds, other, tok_b.id)["id"] == tok_a.id, "the first pin stays"
    assert sorted(p.name for p in (ds / "tokenizer").iterdir()) == sorted(["PINNED.json", folder, other])

    tcfg = resolve("tokenize", TOKENIZE_PARAMS, {})
    assert pinned_tokenizer(None, ds, tcfg, None, {}).id == tok_a.id  # pinned: no Spark, no training
    assert pinned_tokenizer(None, ds, {**tcfg, "tokenizer": str(model_a)}, None, {}).id == tok_a.id
    with pytest.raises(TokenizerMismatch, match="pinned to sentencepiece:a:"):
        pinned_tokenizer(None, ds, {**tcfg, "tokenizer": str(model_b)}, None, {})
    with pytest.raises(TokenizerMismatch, match="eos id"):
        pinned_tokenizer(None, ds, {**tcfg, "eos_token": "<s>"}, None, {})
    assert read_pin(ds)["folder"] == folder
    check_tokenizer_config(ds, {**tcfg, "tokenizer": str(model_a)})
    with pytest.raises(TokenizerMismatch):
        check_tokenizer_config(ds, {**tcfg, "tokenizer": str(model_b)})
    with pytest.raises(ConfigError, match="cannot load"):
        check_tokenizer_config(tmp_path / "unpinned", {**tcfg, "tokenizer": str(tmp_path / "missing.model")})


def test_shards_params_refuse_unknown_signals() -> None:
    from jwc.jobs.shards import shards_options
    from jwc.pipeline.config import build

    assert shards_options({})["signals"][0] == "comp_japanese_frac"
    with pytest.raises(ConfigError, match="unknown signal"):
        build({"shards": {"signals": ["comp_japanese_frac", "no_such_signal"]}})
    with pytest.raises(ConfigError, match="twice"):
        build({"shards": {"signals": ["ng_score", "ng_score"]}})
    with pytest.raises(ConfigError, match=r"^shards.signals\[0\]: expected a string, got int \(1\)$"):
        build({"shards": {"signals": [1]}})


def test_die_hook_kills_only_at_its_point() -> None:
    code = "from jwc.pipeline.io.crash import die_at; die_at('publish:manifest'); print('alive')"
    for point, rc in (("publish:manifest", -signal.SIGKILL), ("tokenize:written", 0)):
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                              env={"JWC_TEST_DIE_AT": point, "PATH": "/usr/bin:/bin"}, timeout=60)
        assert proc.returncode == rc and (proc.stdout == "alive\n") == (rc == 0)


def test_code_version_names_the_commit() -> None:
    code = code_version()
    assert code["package"] == "jwc" and code["version"]
    if (REPO / ".git").exists():
        assert len(code["git_commit"]) == 40 and isinstance(code["git_dirty"], bool)


def test_chain_of_old_style_versions_resolves_with_the_stored_tokenizer(tmp_path: Path) -> None:
    """Versions published before versions held their tokenizer (no `tokenizer.files`): the chain follows the
    parent links, skips gaps, and train-args falls back to the dataset's stored model; a loop is refused."""
    from jwc.pipeline.versions.chain import chain_view, resolve_dataset, training_args, version_chain

    ds = tmp_path / "datasets" / "d"
    (ds / "tokenizer" / "x").mkdir(parents=True)
    (ds / "tokenizer" / "x" / "tokenizer-info.json").write_text(json.dumps({"file": "d.model"}))
    publish_fake(ds, "v0001", None)
    publish_fake(ds, "v0003", "v0001")
    assert [m["version"] for m in version_chain(ds, "v0003")] == ["v0001", "v0003"]
    rows = chain_view(ds, "v0003")
    assert [(r["version"], r["cumulative_documents"], r["cumulative_tokens"]) for r in rows] == [
        ("v0001", 8, 80), ("v0003", 16, 160)]
    args = training_args(resolve_dataset(ds, "v0003", root=Path("/data/copy")))
    assert args["megatron"][:5] == ["--data-path", "0.5", "/data/copy/v0001/tokens/shard-00000", "0.5",
                                    "/data/copy/v0003/tokens/shard-00000"]
    assert args["megatron"][args["megatron"].index("--tokenizer-model") + 1] == str(ds / "tokenizer/x/d.model")
    assert args["nemo"]["model.tokenizer.library"] == "sentencepiece" and args["tokens"] == 160
    looped = json.loads((ds / "versions" / "v0001" / MANIFEST).read_text()) | {"parent": "v0003"}
    (ds / "versions" / "v0001" / MANIFEST).write_text(json.dumps(looped))
    with pytest.raises(VersionError, match="loop"):
        version_chain(ds, "v0003")
