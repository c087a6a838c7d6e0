"""The config schema: every option is checked once, when the config is loaded. Bad choices, bad list elements and
bad cross-key combinations are refused by `jwc config check` with exit 2 and one line naming the key; the code that
uses the values (filters, the chain, redecide, stats) asks one function which steps are on."""
from __future__ import annotations

import math

import pytest

from jwc.filters.chain import Chain
from jwc.filters.registry import CLEANERS, FILTERS, enabled
from jwc.jobs.cli import main as cli
from jwc.pipeline import config
from jwc.pipeline.stats.tables import rule_rows
from jwc.schemas.config import Param, fullmatch, resolve

REFUSED = [
    ("[extract]\nhtml_types = [1, 2]\n", "extract.html_types[0]: expected a string, got int (1)"),
    ("[extract]\nhtml_types = 'text/html'\n", "extract.html_types: expected a list, got str ('text/html')"),
    ("[filters.pii]\nmask_style = 'mask'\n", "filters.pii.mask_style: 'mask' is not one of 'tag', 'partial'"),
    ("[filters.pii]\ntypes = ['email', 'fax']\n", "filters.pii.types[1]: 'fax' is not one of 'email', 'phone'"),
    ("[filters.pii]\nmask_char = '**'\n", "filters.pii.mask_char: '**' is not one character"),
    ("[filters.ngwords]\ncategories = ['adult', 'porn']\n",
     "filters.ngwords.categories[1]: 'porn' is not one of 'adult', 'violence', 'discrimination'"),
    ("[filters.ngwords]\nuser_lists = [3]\n", "filters.ngwords.user_lists[0]: expected a string, got int (3)"),
    ("[filters.blocklist]\nlists = [true]\n", "filters.blocklist.lists[0]: expected a string, got a boolean (True)"),
    ("[cleaners.boilerplate]\nextra_words = ['ok', '']\n",
     "cleaners.boilerplate.extra_words[1]: '' is not a non-empty string"),
    ("[dedup]\nkeep = 'random'\n", "dedup.keep: 'random' is not one of 'oldest', 'newest'"),
    ("[dedup]\nbands = 64\n", "dedup: bands*rows = 64*8 = 512 exceeds num_perm = 256"),
    ("[tokenize]\nmodel_type = 'wordpiece'\n", "tokenize.model_type: 'wordpiece' is not one of 'unigram', 'bpe'"),
    ("[tokenize]\nnormalization = 'NFKC'\n", "tokenize.normalization: 'NFKC' is not one of 'identity', 'nfkc'"),
    ("[commoncrawl]\nlanguages = ['JPN']\n",
     "commoncrawl.languages[0]: 'JPN' is not a lower-case language code such as 'jpn'"),
    ("[commoncrawl]\nlanguages = []\n", "commoncrawl: languages: give at least one language code"),
    ("[commoncrawl]\nfetch_status = ['200']\n", "commoncrawl.fetch_status[0]: expected an integer, got str ('200')"),
    ("[commoncrawl]\nfetch_status = [200, 1000]\n", "commoncrawl.fetch_status[1]: 1000 is above the allowed maximum 599"),
    ("[commoncrawl]\nsubset = 'wark'\n", "commoncrawl.subset: 'wark' is not one of 'warc', 'crawldiagnostics'"),
    ("[shards]\nsignals = ['ng_score', 2]\n", "shards.signals[1]: expected a string, got int (2)"),
]


@pytest.mark.parametrize("text,message", REFUSED)
def test_config_check_refuses_at_load_with_one_line(tmp_path, capsys, text, message) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code = cli(["config", "check", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("jwc config: error: ") and message in err, err


def test_allowed_choices_and_elements_pass(tmp_path, capsys) -> None:
    path = tmp_path / "good.toml"
    path.write_text("[filters.pii]\nmask_style = 'partial'\ntypes = ['email', 'phone']\nmask_char = '#'\n"
                    "[commoncrawl]\nlanguages = ['jpn', 'eng']\nfetch_status = [200, 304]\n"
                    "[dedup]\nkeep = 'newest'\nbands = 16\nrows = 16\n[extract]\nhtml_types = ['text/html']\n")
    assert cli(["config", "check", str(path)]) == 0
    cfg = config.load(path)
    assert cfg.filters["pii"]["types"] == ["email", "phone"] and cfg["commoncrawl"]["fetch_status"] == [200, 304]
    assert cfg["dedup"]["keep"] == "newest" and capsys.readouterr().err == ""


def test_every_default_satisfies_its_own_declaration() -> None:
    groups = [(name, params) for name, params in config._sections().items()]
    groups += [(f"{kind}.{c.name}", c.params) for kind, steps in (("cleaners", CLEANERS), ("filters", FILTERS))
               for c in steps]
    checked = 0
    for owner, params in groups:
        for key, param in params.items():
            assert param.validate(f"{owner}.{key}", param.default) == param.default, (owner, key)
            checked += 1
    assert checked > 100


def test_param_checks_elements_ranges_and_named_checks() -> None:
    codes = Param(["a"], "codes", kind=list, item=str, check=fullmatch("[a-z]", "one lower-case letter"))
    assert codes.validate("x.codes", ["q", "z"]) == ["q", "z"]
    with pytest.raises(ValueError, match=r"^x.codes\[1\]: 'Q' is not one lower-case letter$"):
        codes.validate("x.codes", ["q", "Q"])
    ratios = Param([0.5], "ratios", 0.0, 1.0, kind=list, item=float)
    assert ratios.validate("x.r", [0, 1]) == [0.0, 1.0] and type(ratios.validate("x.r", [1])[0]) is float
    with pytest.raises(ValueError, match=r"^x.r\[0\]: NaN is not allowed$"):
        ratios.validate("x.r", [math.nan])
    assert ratios.describe() == "list of numbers; each 0.0 .. 1.0"
    assert codes.describe() == "list of strings; each one lower-case letter"
    with pytest.raises(ValueError, match="^s: bad pair$"):
        resolve("s", {"a": Param(1, "a"), "b": Param(2, "b")}, {"a": 3}, (lambda v: "bad pair" if v["a"] > v["b"]
                                                                          else None,))


def test_config_defaults_show_choices_and_element_types() -> None:
    lines = config.describe().splitlines()

    def doc_of(key: str) -> str:
        return lines[lines.index(key) - 1]

    assert doc_of('mask_style = "tag"').endswith("[one of 'tag', 'partial']")
    assert doc_of('keep = "oldest"').endswith("[one of 'oldest', 'newest']")
    assert doc_of('html_types = ["text/html", "application/xhtml+xml"]').endswith("[list of strings]")
    assert "[list of strings; each one of 'adult', 'violence', 'discrimination']" in doc_of(
        'categories = ["adult", "violence", "discrimination"]')
    assert doc_of("fetch_status = [200]").endswith("[list of integers; each 100 .. 599]")


def test_one_lookup_of_enabled_steps_serves_chain_and_stats() -> None:
    cfg = config.build({"filters": {"composition": {"enabled": False}, "pii": {"max_pii": 3}},
                        "cleaners": {"boilerplate": {"enabled": False}}})
    on = [f.name for f, _ in enabled(FILTERS, cfg.filters)]
    assert "composition" not in on and on == [f.name for f in FILTERS if f.name != "composition"]
    chain = Chain.from_config(cfg.cleaners, cfg.filters)
    assert [f.name for f in chain.filters] == on
    assert [c.name for c in chain.cleaners] == [c.name for c in CLEANERS if c.name != "boilerplate"]
    rows = rule_rows(cfg.filters)
    assert list(dict.fromkeys(r["filter"] for r in rows)) == [f.name for f, _ in enabled(FILTERS, cfg.filters)
                                                               if f.rules]
    assert [r["threshold"] for r in rows if r["reason"] == "pii.too_much_pii"] == [3.0]
    # A step without a table runs with its defaults, for the chain and the stats alike.
    defaults = enabled(FILTERS, {})
    assert [f.name for f, _ in defaults] == [f.name for f in FILTERS]
    assert dict(defaults)[FILTERS[-1]] == {k: p.default for k, p in FILTERS[-1].params.items()}
    assert len(rule_rows({})) == sum(len(f.rules) for f in FILTERS)
