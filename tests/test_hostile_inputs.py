"""Hostile names and files: input file names with `:` and `[` are read (and globs over their folder work), glob
characters can be escaped, and unusable crawl ids and non-UTF-8 configs are refused with one line and exit 2
before any work."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jwc.jobs.cli import main as cli
from jwc.pipeline.io.inputs import InputError, resolve_inputs
from jwc.pipeline.sample.generate import generate_sample
from tests.helpers import write_warc

PAGE = ("<html><body><p>" + "今日は朝から雨が降っていたので、図書館で本を読んで過ごしました。" * 3
        + "</p></body></html>").encode()
NAMES = ["seg:1 [a].warc.gz", "CC-MAIN-20260101:0001.warc.gz", "plain.warc.gz", "seg1a.warc.gz"]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i, name in enumerate(NAMES):
        write_warc(d / name, [(f"https://example.jp/{i}", PAGE, "text/html; charset=utf-8")])
    return d


def _names(spark, patterns: list[str]) -> list[str]:
    return [Path(f.path).name for f in resolve_inputs(spark, patterns)]


def test_names_with_colon_and_bracket_resolve(spark, folder: Path) -> None:
    assert _names(spark, [str(folder / "*.warc.gz")]) == sorted(NAMES)  # one `:` name used to break the glob
    assert _names(spark, [str(folder)]) == sorted(NAMES)
    assert _names(spark, [str(folder / "seg:1 [a].warc.gz")]) == ["seg:1 [a].warc.gz"]  # exists: taken as is
    assert _names(spark, [f"file:{folder}/seg:1 [a].warc.gz"]) == ["seg:1 [a].warc.gz"]
    assert _names(spark, [str(folder / "seg:1 \\[a\\]*")]) == ["seg:1 [a].warc.gz"]  # escaped in a glob
    assert _names(spark, [str(folder / "seg1[a].warc.gz")]) == ["seg1a.warc.gz"]  # a class when not escaped
    assert _names(spark, [str(folder / "{plain,seg1a}.warc.gz")]) == ["plain.warc.gz", "seg1a.warc.gz"]
    with pytest.raises(InputError, match=r"glob matched no files: .*is written \\\["):
        resolve_inputs(spark, [str(folder / "seg:2 [a]*")])


def test_extract_reads_files_named_with_colon_and_bracket(spark, folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = cli(["extract", "--json", "--input", str(folder / "*:*"), "--input", str(folder / "seg1a.warc.gz"),
                "--output", str(out)])
    counts = json.loads(capsys.readouterr().out)
    assert code == 0 and counts["kept"] == 3 and counts["failed_files"] == []
    rows = spark.read.parquet(str(out / "records")).where("outcome = 'kept'").collect()
    assert sorted(Path(r["source_file"]).name for r in rows) == sorted(NAMES[:2] + NAMES[3:])


@pytest.mark.parametrize("crawl_id", ["seg[1]", "a" * 300, "CC:MAIN", "../up", ".hidden", "a b"])
def test_unusable_crawl_ids_are_refused_before_work(spark, folder: Path, tmp_path: Path, capsys, crawl_id) -> None:
    store = tmp_path / "store"
    code = cli(["nightly", "--crawl-id", crawl_id, "--input", str(folder), "--store", str(store)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "not a usable crawl id" in err, err
    assert len(err) < 400 and not store.exists()


def test_usual_crawl_ids_are_accepted(tmp_path: Path) -> None:
    from jwc.pipeline.io.store import Store

    st = Store.open(tmp_path / "store")
    for crawl_id in ("CC-MAIN-2026-48", "SAMPLE-2026-48", "X", "run_7.b", "a" * 100):
        assert st.run_dir(crawl_id).name == crawl_id


def test_non_utf8_config_is_one_line(spark, tmp_path: Path, capsys) -> None:
    """A config saved as Shift_JIS (a Japanese comment): named, with the byte and line, for both commands."""
    cfg = tmp_path / "sjis.toml"
    cfg.write_bytes("[langid]\n# 日本語のしきい値\nja_threshold = 0.6\n".encode("shift_jis"))
    warc = tmp_path / "s.warc.gz"
    generate_sample(str(warc), records=60, seed=2)
    for args in (["config", "check", str(cfg)],
                 ["nightly", "--crawl-id", "X", "--input", str(warc), "--store", str(tmp_path / "st"),
                  "--config", str(cfg)]):
        code = cli(args)
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1, err
        assert "not UTF-8 text (byte 0x93 on line 2)" in err and "save the config as UTF-8" in err
    assert not (tmp_path / "st").exists()


def test_machine_failures_are_one_line_and_others_are_not_hidden() -> None:
    import errno

    from jwc.pipeline.errors import machine_failure

    line = machine_failure(OSError(errno.ENAMETOOLONG, "File name too long", "/s/" + "x" * 300))
    assert line is not None and line.startswith("File name too long: /s/xxx") and "shorter" in line
    assert "free space" in machine_failure(OSError(errno.ENOSPC, "No space left on device"))
    assert machine_failure(FileNotFoundError(errno.ENOENT, "No such file", "/gone")) is None  # a bug, not the disk
    assert machine_failure(ValueError("No space left on device")) is None  # only OSError and Spark's errors


def test_too_small_sample_is_one_line(tmp_path: Path, capsys) -> None:
    code = cli(["sample", str(tmp_path / "s.warc.gz"), "--records", "40"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == "jwc sample: error: records=40 is too small for a sample that covers every page " \
                                "kind (need >= 43)"


def test_hadoop_listing_of_a_colon_name_is_one_line(spark) -> None:
    """Paths with a scheme go through Hadoop, which refuses a `:` in a name: a one-line InputError saying so."""
    from jwc.pipeline.io.inputs import _hadoop_files

    with pytest.raises(InputError, match=r"^cannot list input seg:1.warc.gz: java.net.URISyntaxException: .*"
                                         r"cannot hold ':' in a file name"):
        _hadoop_files(spark, "seg:1.warc.gz")
