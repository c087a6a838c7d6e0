"""fastText document classifiers: train one from labelled JSONL, score documents with it.

One mechanism serves toxicity (P(toxic), drop when high) and quality (Wikipedia-vs-web as in Swallow v2: P(wiki),
drop when low). Japanese has no spaces, so text is cut into MeCab (fugashi) words and space-joined before fastText
sees it, in training and in scoring alike (`fasttext_tokens`); the two filters share that work per document through
`doc.cached("fasttext_tokens", ...)`.

Without a model path the filters are no-ops: their signals are NaN ("not measured"), so their rules never fire and
the signal column keeps one meaning. NaN rather than removing the filter keeps the stored schema the same whatever
the configuration, and rather than 0.0 because 0.0 would read as a measured probability.
"""
from __future__ import annotations

import json
import math
import random
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Mapping

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param

MAX_CHARS = 20_000  # the start of a page decides its class; cost stays bounded on huge pages
_SPACES = re.compile(r"\s+")
_tagger: Any = None


def fasttext_tokens(text: str, max_chars: int = MAX_CHARS) -> str:
    """NFKC-normalised, lower-cased MeCab surfaces joined by single spaces, on one line."""
    global _tagger
    if _tagger is None:
        import fugashi

        _tagger = fugashi.Tagger("-Owakati")
    text = unicodedata.normalize("NFKC", text[:max_chars]).lower()
    return _SPACES.sub(" ", _tagger.parse(_SPACES.sub(" ", text))).strip()


def _label(value: Any) -> str:
    return _SPACES.sub("_", str(value).strip())


def train_classifier(
    jsonl_path: str | Path,
    model_out: str | Path,
    label_field: str = "label",
    text_field: str = "text",
    valid_fraction: float = 0.1,
    seed: int = 0,
    **fasttext_opts: Any,
) -> dict[str, Any]:
    """Train a fastText supervised model on JSONL records {text_field, label_field}, holding out `valid_fraction`
    (shuffled with `seed`, stratified per label) to report precision, recall and F1 per label. `fasttext_opts` go
    to fasttext.train_supervised (defaults: epoch 25, lr 0.5, wordNgrams 2, dim 64, thread 1 so that a seed gives
    the same model). Returns the report; the model is saved to `model_out`."""
    import fasttext

    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be between 0 and 1, got {valid_fraction}")
    by_label: dict[str, list[str]] = {}
    with open(jsonl_path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if label_field not in rec or text_field not in rec:
                raise ValueError(f"{jsonl_path}:{n}: record lacks '{label_field}' or '{text_field}'")
            tokens = fasttext_tokens(str(rec[text_field]))
            if tokens:
                by_label.setdefault(_label(rec[label_field]), []).append(tokens)
    if len(by_label) < 2:
        raise ValueError(f"{jsonl_path}: need at least two labels, found {sorted(by_label)}")
    rng = random.Random(seed)
    train, valid = [], []
    for label in sorted(by_label):
        docs = by_label[label]
        rng.shuffle(docs)
        k = max(1, round(len(docs) * valid_fraction))
        valid += [(label, d) for d in docs[:k]]
        train += [(label, d) for d in docs[k:]]
    rng.shuffle(train)
    opts = {"epoch": 25, "lr": 0.5, "wordNgrams": 2, "dim": 64, "thread": 1, "seed": seed, "verbose": 0}
    opts.update(fasttext_opts)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("".join(f"__label__{lab} {doc}\n" for lab, doc in train), encoding="utf-8")
        model = fasttext.train_supervised(input=str(train_file), **opts)
    Path(model_out).parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(model_out))

    predicted = [model.predict(doc, k=1)[0][0].removeprefix("__label__") for _, doc in valid]
    per_label = {}
    for label in sorted(by_label):
        tp = sum(1 for (gold, _), p in zip(valid, predicted) if gold == label and p == label)
        n_pred = sum(1 for p in predicted if p == label)
        n_gold = sum(1 for gold, _ in valid if gold == label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": n_gold}
    return {
        "model": str(model_out),
        "labels": sorted(by_label),
        "n_train": len(train),
        "n_valid": len(valid),
        "accuracy": sum(gold == p for (gold, _), p in zip(valid, predicted)) / len(valid),
        "per_label": per_label,
        "fasttext_options": opts,
    }


class FastTextFilter(Filter):
    """Scores documents with the fastText model at `model_path`: the signal is the probability of `label`.
    Subclasses fix the name, signal and default label; both rules are present, with thresholds that never fire by
    default except the one the subclass's purpose needs."""

    signal: str = ""
    params: Mapping[str, Param] = {}

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.model: Any = None
        path = self.options["model_path"]
        if path:
            if not Path(path).is_file():
                raise FileNotFoundError(f"{self.name}.model_path: {path} does not exist")
            import fasttext

            self.model = fasttext.load_model(path)
            labels = [lab.removeprefix("__label__") for lab in self.model.get_labels()]
            if self.options["label"] not in labels:
                raise ValueError(f"{self.name}.label: {self.options['label']!r} is not a label of {path}; "
                                 f"it has {', '.join(labels)}")
            self._label = "__label__" + self.options["label"]

    def probability(self, tokens: str) -> float:
        """Probability of the configured label for already tokenised text."""
        labels, probs = self.model.predict(tokens, k=-1)
        for lab, p in zip(labels, probs):
            if lab == self._label:
                return min(1.0, float(p))
        return 0.0

    def signals(self, doc: Doc) -> dict[str, float]:
        if self.model is None:
            return {self.signal: math.nan}
        tokens = doc.cached("fasttext_tokens", lambda: fasttext_tokens(doc.text))
        return {self.signal: self.probability(tokens)}


def _params(label: str, min_prob: float, max_prob: float, what: str) -> dict[str, Param]:
    return {
        "model_path": Param("", f"fastText model file ({what}); empty = filter disabled, signal NaN"),
        "label": Param(label, "label whose probability is the signal"),
        "min_prob": Param(min_prob, "drop when the probability is below this", lo=0.0, hi=1.0),
        "max_prob": Param(max_prob, "drop when the probability is above this", lo=0.0, hi=1.0),
    }


class ToxicityClassifierFilter(FastTextFilter):
    """Toxicity by a trained classifier: drops pages whose P(toxic) is above max_prob."""

    name = "toxicity_classifier"
    signal = "clf_toxicity_prob"
    params = _params("toxic", 0.0, 0.9, "e.g. labels toxic / clean")
    rules = (
        Rule("low_prob", "clf_toxicity_prob", "min", "min_prob"),
        Rule("high_prob", "clf_toxicity_prob", "max", "max_prob"),
    )
    signal_names = ("clf_toxicity_prob",)


class QualityClassifierFilter(FastTextFilter):
    """Quality by a trained classifier (Wikipedia-like vs web): drops pages whose P(wiki) is below min_prob."""

    name = "quality_classifier"
    signal = "clf_quality_prob"
    params = _params("wiki", 0.1, 1.0, "e.g. labels wiki / web")
    rules = (
        Rule("low_prob", "clf_quality_prob", "min", "min_prob"),
        Rule("high_prob", "clf_quality_prob", "max", "max_prob"),
    )
    signal_names = ("clf_quality_prob",)


FILTERS = (ToxicityClassifierFilter, QualityClassifierFilter)
