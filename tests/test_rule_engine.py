"""One rule engine: the filter stage decides in Python (`Filter.reasons` -> `Rule.fails`) and `jwc redecide` in
Spark SQL (`decision_columns` -> `Rule.sql`), both from `RULE_OPS`. On signal values that include None, NaN,
infinities, signed zeros and values equal to the threshold, the two must give the same reasons, in the same order,
for every rule of every filter."""
from __future__ import annotations

import math
import random

import pytest
from pyspark.sql import types as T

from jwc.filters.base import RULE_OPS, Rule
from jwc.filters.registry import FILTERS, enabled
from jwc.jobs.filter import decision_columns
from jwc.schemas.documents import SIGNAL_PREFIX

VALUES = [None, math.nan, -math.inf, -1.0, -0.0, 0.0, 1e-300, 0.1, 0.5, 0.9, 1.0, 3.0, 10.0, 1e300, math.inf]
SIGNALS = sorted({r.signal for f in FILTERS for r in f.rules})


def _threshold_sets() -> dict[str, dict[str, dict]]:
    """Per name, full `[filters.*]` tables: the defaults, every threshold at one value, and a random mix."""
    rng = random.Random(7)
    finite = [v for v in VALUES if v is not None and not math.isnan(v)]
    sets = {}
    for name, pick in [("defaults", None), ("zero", lambda: 0.0), ("half", lambda: 0.5), ("one", lambda: 1.0),
                       ("ten", lambda: 10.0), ("mixed", lambda: rng.choice(finite))]:
        tables = {}
        for f, options in enabled(FILTERS, {}):
            tables[f.name] = dict(options) | ({r.param: pick() for r in f.rules} if pick else {})
        sets[name] = tables
    return sets


def _rows() -> list[dict]:
    """Every value on every signal at once, then random combinations (so rules of one filter disagree)."""
    rng = random.Random(11)
    rows = [{s: v for s in SIGNALS} for v in VALUES]
    rows += [{s: rng.choice(VALUES) for s in SIGNALS} for _ in range(300)]
    return [{"row": i, **r} for i, r in enumerate(rows)]


def _python_reasons(row: dict, tables: dict) -> list[str]:
    return [reason for f, options in enabled(FILTERS, tables) for reason in f.reasons(row, options)]


@pytest.mark.parametrize("name", list(_threshold_sets()))
def test_python_and_spark_sql_decide_alike(spark, name) -> None:
    tables = _threshold_sets()[name]
    rows = _rows()
    schema = T.StructType([T.StructField("row", T.LongType())]
                          + [T.StructField(SIGNAL_PREFIX + s, T.DoubleType()) for s in SIGNALS])
    df = spark.createDataFrame([[r["row"], *(r[s] for s in SIGNALS)] for r in rows], schema)
    decided = df.withColumns(decision_columns(tables)).select("row", "keep", "reject_reason", "reject_reasons")
    spark_out = {r["row"]: (r["keep"], r["reject_reason"], list(r["reject_reasons"])) for r in decided.collect()}
    assert len(spark_out) == len(rows)
    fired = 0
    for r in rows:
        python = _python_reasons(r, tables)
        assert spark_out[r["row"]] == (not python, python[0] if python else None, python), (name, r)
        fired += len(python)
    assert fired > 0  # the sets are not all-pass


def test_none_nan_and_equality_never_fail() -> None:
    for op in RULE_OPS:
        rule = Rule("r", "s", op, "p")
        assert not rule.fails(None, 0.5) and not rule.fails(math.nan, 0.5) and not rule.fails(0.5, 0.5)
        assert not rule.fails(0.0, -0.0) and not rule.fails(math.inf, math.inf)
    assert Rule("r", "s", "min", "p").fails(0.4, 0.5) and Rule("r", "s", "max", "p").fails(0.6, 0.5)
    assert not Rule("r", "s", "min", "p").fails(0.6, 0.5) and not Rule("r", "s", "max", "p").fails(0.4, 0.5)


def test_sql_threshold_is_a_double_even_for_tiny_and_infinite_values(spark) -> None:
    rule = Rule("r", "sig", "max", "p")
    df = spark.createDataFrame([(1e-301,), (2e-300,), (math.inf,)], "sig double")
    assert [r[0] for r in df.selectExpr(rule.sql("sig", 1e-300)).collect()] == [False, True, True]
    assert [r[0] for r in df.selectExpr(rule.sql("sig", math.inf)).collect()] == [False, False, False]
