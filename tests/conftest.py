"""Shared fixtures: one real local Spark session. Helper functions live in tests/helpers.py."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def spark():
    from jwc.pipeline.spark import get_session

    os.environ.setdefault("JWC_SPARK_LOG_LEVEL", "ERROR")
    session = get_session("jwc-tests", master="local[2]", shuffle_partitions=4,
                          extra_conf={"spark.ui.enabled": "false"})
    yield session
    session.stop()
