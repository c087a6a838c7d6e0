"""The command line itself: `jwc --version`, help text on every flag, $JWC_STORE wherever --store is taken."""
from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import version

import pytest

from jwc.jobs.cli import build_parser, main


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version_names_jwc_and_pyspark() -> None:
    proc = subprocess.run([sys.executable, "-m", "jwc.jobs.cli", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"jwc {version('jwc')} (pyspark {version('pyspark')}, python ")


def test_every_flag_of_every_command_has_help() -> None:
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, sub in _subparsers(build_parser()).items() for a in sub._actions
               if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []


def test_every_store_flag_defaults_to_jwc_store(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("JWC_STORE", str(tmp_path))
    with_store = {name: sub for name, sub in _subparsers(build_parser()).items()
                  if any("--store" in a.option_strings for a in sub._actions)}
    assert set(with_store) == {"nightly", "versions", "index", "train-tokenizer", "report", "decontam-check", "runs"}
    for name, sub in with_store.items():
        store = next(a for a in sub._actions if "--store" in a.option_strings)
        assert store.default == str(tmp_path) and not store.required, name
    monkeypatch.delenv("JWC_STORE")
    store = next(a for a in _subparsers(build_parser())["index"]._actions if "--store" in a.option_strings)
    assert store.required and store.default is None
    # versions verify --path needs no store, so versions' --store is optional and its absence a one-line error
    assert main(["versions", "list"]) == 2


def test_jwc_store_is_used_by_a_command(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("JWC_STORE", str(tmp_path / "nowhere"))
    assert main(["versions", "list"]) == 2
    assert f"no store at {tmp_path / 'nowhere'}" in capsys.readouterr().err
    monkeypatch.delenv("JWC_STORE")
    with pytest.raises(SystemExit) as exc:
        main(["index", "show"])
    assert exc.value.code == 2 and "--store" in capsys.readouterr().err


def test_an_empty_store_is_refused_in_one_line(capsys) -> None:
    """`--store ""` (a script's unset variable): the same one-line refusal from index and from train-tokenizer."""
    for command in (["index", "show"], ["train-tokenizer"]):
        assert main([*command, "--store", ""]) == 2, command
        assert "no store given: pass --store DIR or set $JWC_STORE" in capsys.readouterr().err, command
