"""One validated configuration for a run, read from TOML, with every default documented in one place.

Each section's keys are declared as `Param`s (jwc/schemas/config.py) by the module that uses them, with the checks
that span several keys of a section; a config file may only set declared keys, with the right type, within range and
among the declared choices. Everything is checked here, once, before any work starts; the code that uses a value
does not check it again. The resolved config (with defaults filled in) is what manifests record and hash.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from jwc.filters.registry import CLEANERS, FILTERS
from jwc.pipeline.dedup.minhash import DEDUP_CHECKS, DEDUP_PARAMS
from jwc.pipeline.errors import UserError
from jwc.pipeline.commoncrawl.listing import COMMONCRAWL_CHECKS, COMMONCRAWL_PARAMS
from jwc.pipeline.io.lock import lock_problem
from jwc.pipeline.io.store import STORE_PARAMS
from jwc.pipeline.extract.records import EXTRACT_PARAMS, LANGID_PARAMS
from jwc.pipeline.stats.tables import STATS_PARAMS
from jwc.pipeline.tokens.tokenizer import TOKENIZE_PARAMS
from jwc.pipeline.versions.params import PUBLISH_PARAMS, SHARDS_PARAMS, shards_problem
from jwc.schemas.config import Check, Param, resolve

RUN_PARAMS: dict[str, Param] = {
    "dataset": Param("ja-web", "Dataset name in the store: versions, dedup index and tokenizer live under it."),
    "progress_seconds": Param(10.0, "Seconds between progress lines on the console; 0 turns them off.", 0, 3600,
                              operational=True),
}
SPARK_PARAMS: dict[str, Param] = {
    "master": Param("", "Spark master; empty keeps spark-submit's or uses local[*].", kind=str, operational=True),
    "shuffle_partitions": Param(0, "spark.sql.shuffle.partitions; 0 keeps spark-submit's, else 2 x the cluster's "
                                "parallelism (sc.defaultParallelism, re-read before each stage).", 0, 100_000,
                                operational=True),
    "ui": Param("", "Spark web UI: true or false; empty keeps spark-submit's setting, else Spark's default (on).",
                kind=(bool, str), operational=True),
    "local_quick_jit": Param(True, "Local mode: compile the JVM's code with the quick JIT only (less CPU on runs "
                             "of minutes to hours); no effect on a cluster.", kind=bool, operational=True),
}


def _sections() -> dict[str, Mapping[str, Param]]:
    """Every plain section and its declared keys, in pipeline order."""
    return {"run": RUN_PARAMS, "spark": SPARK_PARAMS, "commoncrawl": COMMONCRAWL_PARAMS, "extract": EXTRACT_PARAMS,
            "langid": LANGID_PARAMS, "dedup": DEDUP_PARAMS, "shards": SHARDS_PARAMS, "tokenize": TOKENIZE_PARAMS,
            "stats": STATS_PARAMS, "publish": PUBLISH_PARAMS, "store": STORE_PARAMS}


def _check_spark(values: dict[str, Any]) -> str | None:
    if values["ui"] not in (True, False, ""):
        return f"ui: expected true, false or \"\" (Spark's default), got {values['ui']!r}"
    return None


# Checks across keys of one section, declared by the module that owns the section.
_CROSS_CHECKS: dict[str, tuple[Check, ...]] = {"commoncrawl": COMMONCRAWL_CHECKS, "dedup": DEDUP_CHECKS,
                                               "shards": (shards_problem,),
                                               "store": (lock_problem,),
                                               "spark": (_check_spark,)}


_ENABLED = Param(True, "Run this step.", kind=bool)


def _step_params(cls: type) -> dict[str, Param]:
    return {"enabled": _ENABLED, **cls.params}


class ConfigError(UserError):
    """A config that cannot be used; the message names the key and the problem."""


@dataclass(frozen=True)
class Config:
    """Resolved values: `sections[name][key]`, `cleaners[name]`, `filters[name]` (each with `enabled`)."""

    sections: dict[str, dict[str, Any]]
    cleaners: dict[str, dict[str, Any]]
    filters: dict[str, dict[str, Any]]

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.sections[section]

    def to_dict(self) -> dict[str, Any]:
        return {**self.sections, "cleaners": self.cleaners, "filters": self.filters}

    def digest(self) -> str:
        """sha256 of the values that decide a run's output, whatever the file's formatting. Operational keys
        (retries, time-outs, batching, Spark settings, progress) are left out, so changing them does not stop a
        crashed run from resuming."""
        params = _sections()
        decisive = {name: {k: v for k, v in values.items() if not params[name][k].operational}
                    for name, values in self.sections.items()}
        blob = json.dumps({**decisive, "cleaners": self.cleaners, "filters": self.filters}, sort_keys=True,
                          ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def build(raw: Mapping[str, Any]) -> Config:
    """Validate a parsed TOML mapping; raises ConfigError naming the first problem."""
    sections = _sections()
    steps = {"cleaners": {c.name: c for c in CLEANERS}, "filters": {f.name: f for f in FILTERS}}
    unknown = sorted(set(raw) - set(sections) - set(steps))
    if unknown:
        raise ConfigError(f"unknown config section [{unknown[0]}]; known: {', '.join(sorted([*sections, *steps]))}")
    try:
        resolved = {name: resolve(name, params, _table(raw, name), _CROSS_CHECKS.get(name, ()))
                    for name, params in sections.items()}
        chains: dict[str, dict[str, dict[str, Any]]] = {}
        for group, classes in steps.items():
            given = _table(raw, group)
            extra = sorted(set(given) - set(classes))
            if extra:
                raise ConfigError(f"unknown {group[:-1]} [{group}.{extra[0]}]; known: {', '.join(classes)}")
            chains[group] = {
                name: resolve(f"{group}.{name}", _step_params(cls), _table(given, name, f"{group}."))
                for name, cls in classes.items()
            }
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return Config(resolved, chains["cleaners"], chains["filters"])


def _table(raw: Mapping[str, Any], name: str, prefix: str = "") -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{prefix}{name}] must be a table, got {type(value).__name__}")
    return value


def load(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Defaults, overlaid by the TOML file at `path`, overlaid by `overrides` (section -> key -> value)."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            line = p.read_bytes()[:exc.start].count(b"\n") + 1
            raise ConfigError(f"{p}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}): save the "
                              "config as UTF-8, as TOML requires") from None
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    return build(raw)


def describe() -> str:
    """The default config as TOML with every key's documentation: `jwc config defaults` prints it."""
    lines = ["# jwc configuration: every key with its default. Copy, keep what you change, delete the rest.", ""]
    groups = [(name, params) for name, params in _sections().items()]
    groups += [(f"cleaners.{c.name}", _step_params(c)) for c in CLEANERS]
    groups += [(f"filters.{f.name}", _step_params(f)) for f in FILTERS]
    for name, params in groups:
        lines.append(f"[{name}]")
        for key, p in params.items():
            bounds = f" [{p.describe()}]" if p.describe() else ""
            note = " (operational: not part of the config digest, a crashed run may resume with it changed)" \
                if p.operational else ""
            lines.append(f"# {p.doc}{bounds}{note}")
            lines.append(f"{key} = {_toml_value(p.default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
