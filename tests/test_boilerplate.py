"""Published text of real pages against their gold, and near-duplicate short articles in varying site furniture.

Published text = what ends up in a shard: the extract stage's main text (charset decode, trafilatura with hidden
elements pruned) through the filter stage's chain (cleaners, then PII masking), with the default config.

Precision and recall are on character 5-grams (multisets) of the text with all whitespace, table-cell bars and list
bullets removed (the extractor writes a table row as "| cell | cell |" and a list item as "- item"; like the
whitespace, they are layout):
precision = shared 5-grams / 5-grams of the published text, recall = shared 5-grams / 5-grams of the gold.
"""
from __future__ import annotations

import csv
import gzip
import itertools
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest
import trafilatura

from jwc.filters.chain import Chain
from jwc.filters.charclass import JA_LETTERS
from jwc.pipeline import config
from jwc.pipeline.extract.charset import decode_html
from jwc.pipeline.extract.maintext import extract_main_text
from tests.helpers import SHARED_DATA, shared_data, write_warc
from tests.realpages import ENGLISH, gold_texts, real_pages, snippet_gold

pytestmark = pytest.mark.shared

_SPACE = re.compile(r"\s+")
_LAYOUT = re.compile(r"\s+|\||^- ", re.M)
MIN_RECALL, MIN_PRECISION = 0.98, 0.95
# Readability's expected output for this children's-story site keeps the site's daily-trivia and sister-site
# widgets (its layout is one table), so it is no article gold: the story's own gold is in DEV_GOLD below.
WIDGET_GOLD = ("hukumusume/source.html",)


def grams(text: str, n: int = 5) -> Counter:
    """Character n-grams of the text without whitespace, table-cell bars and list bullets."""
    s = _LAYOUT.sub("", text)
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


def precision_recall(gold: str, text: str) -> tuple[float, float]:
    g, t = grams(gold), grams(text)
    shared = sum((g & t).values())
    return shared / max(1, sum(t.values())), shared / max(1, sum(g.values()))


def body(published: str, title: str) -> str:
    """The published text without a first line that is the page's headline: the gold of newspaper4k and
    Readability keeps the headline in a separate title field, our text keeps it in the article."""
    first, _, rest = published.partition("\n")
    return rest if title and _SPACE.sub("", first) == _SPACE.sub("", title) else published


def publish(path: Path, url: str, chain: Chain, cfg: config.Config, furniture: bool = True) -> tuple[str, str]:
    """(title, published text) of one page as the extract and filter stages produce it."""
    decoded = decode_html(path.read_bytes(), "text/html")
    x = cfg["extract"]
    got = extract_main_text(decoded.text, url, 60.0, x["fast"], x["prune_hidden"] and furniture)
    if got is None:
        return "", ""
    return got.title, chain.run(got.text, url=url).text


def chains() -> tuple[config.Config, Chain, Chain]:
    """The default config, its chain, and the chain without the furniture cleaner (the state before it)."""
    cfg = config.load()
    before = config.load(overrides={"cleaners": {"furniture": {"enabled": False}}})
    return cfg, Chain.from_config(cfg.cleaners, cfg.filters), Chain.from_config(before.cleaners, before.filters)


@pytest.fixture(scope="module")
def published() -> dict[str, dict[str, tuple[str, str]]]:
    """name -> {"after": (title, text), "before": (title, text)} for every Japanese real page."""
    shared_data("ja_html_postlight")
    cfg, after, before = chains()
    out = {}
    for url, path in real_pages():
        if any(e in path.name for e in ENGLISH):
            continue
        name = f"{path.parent.name}/{path.name}" if path.name == "source.html" else path.name
        out[name] = {"after": publish(path, url, after, cfg), "before": publish(path, url, before, cfg, False)}
    return out


def test_gold_pages_precision_and_recall(published) -> None:
    scores = {}
    for name, gold in gold_texts().items():
        title, text = published[name]["after"]
        b_title, b_text = published[name]["before"]
        scores[name] = {"after": precision_recall(gold, body(text, title)),
                        "before": precision_recall(gold, body(b_text, b_title))}
    print(json.dumps(scores, indent=1))
    assert len(scores) >= 4
    for name, s in scores.items():
        p, r = s["after"]
        if name in WIDGET_GOLD:
            continue
        assert r >= MIN_RECALL and p >= MIN_PRECISION, (name, s)


def test_snippet_gold(published) -> None:
    """trafilatura's evaluation snippets: every 'with' snippet is published, no 'without' snippet is."""
    checked = 0
    for name, (must, must_not) in snippet_gold().items():
        if name not in published:
            continue  # the English page
        text = _SPACE.sub("", published[name]["after"][1])
        assert all(_SPACE.sub("", s) in text for s in must), name
        assert not any(_SPACE.sub("", s) in text for s in must_not), name
        checked += 1
    assert checked >= 1


def test_lead_recall_never_drops(published) -> None:
    """postlight's expected `first13` (the first 13 space-separated tokens of its parser's output: for Japanese
    a lead passage, sometimes a caption or tag line) is only a start of text; recall on it must not drop."""
    expected = json.loads((SHARED_DATA / "ja_html_postlight" / "expected_from_tests.json").read_text())
    worse = {}
    for e in expected:
        name = Path(e["fixture"]).name
        if name not in published or not e.get("first13"):
            continue
        after = precision_recall(e["first13"], published[name]["after"][1])[1]
        before = precision_recall(e["first13"], published[name]["before"][1])[1]
        if after < before:
            worse[name] = (before, after)
    assert worse == {}




def test_hidden_elements_are_pruned_unless_they_hold_the_page() -> None:
    lead = "<p>" + "市は十日、駅前の再開発計画を発表した。" * 12 + "</p>"
    page = (f"<html><body><article><h1>再開発計画を発表</h1>{lead}"
            "<p style='display: none'>有料会員の方のみご利用になれます。</p><h2 class='hide-text'>このニュースをシェア</h2>"
            "<p hidden>隠れた段落です。</p></article></body></html>")
    text = extract_main_text(page, "", 10.0).text
    assert "駅前の再開発計画" in text and not any(w in text for w in ("有料会員", "シェア", "隠れた"))
    assert "シェア" in extract_main_text(page, "", 10.0, hidden=False).text  # trafilatura alone keeps it
    wrapped = f"<html><body><div aria-hidden='true'><article>{lead}</article></div></body></html>"
    assert "駅前の再開発計画" in extract_main_text(wrapped, "", 10.0).text

def test_profile_boxes_and_link_tables_go_layout_tables_open() -> None:
    part = "<p>" + "市は十日、駅前の再開発計画を発表した。" * 9 + "</p>"
    page = (f"<html><body><h1>再開発計画</h1><div class='grid'><div class='body-part'>{part}<div class='si_profile'>"
            "<p>地域の話題を伝えるウェブマガジン。毎日更新しています。</p></div></div></div></body></html>")
    assert "ウェブマガジン" not in extract_main_text(page, "", 10.0).text
    assert "ウェブマガジン" in extract_main_text(page.replace("si_profile", "si_note"), "", 10.0).text
    links = "".join(f"<tr><td><a href='/{i}'>姉妹サイト{i}のご案内</a> 毎日更新</td></tr>" for i in range(6))
    layout = (f"<html><body><table><tr><td><p>{'肉をくわえたイヌが、橋を渡っていました。' * 8}</p><p>おしまい</p></td>"
              f"<td><table>{links}</table></td></tr></table></body></html>")
    text = extract_main_text(layout, "", 10.0).text
    assert "おしまい" in text and "姉妹サイト" not in text and "|" not in text  # trafilatura alone keeps all three


def test_caption_class_without_media_is_text_with_media_a_caption() -> None:
    story = "<p>" + "町はずれのパン屋に、毎朝一番に来る猫がいました。" * 6 + "</p>"
    catch = "<p class='summary-caption'>焼きたての香りが結ぶ、小さな友情の物語！</p>"
    page = f"<html><body><h1>パン屋の猫</h1><article>{catch}{story * 3}</article></body></html>"
    assert "小さな友情の物語" in extract_main_text(page, "", 10.0).text
    assert "小さな友情の物語" not in trafilatura.extract(page, fast=True)  # trafilatura alone drops it
    photo = page.replace(catch, f"<img src='/cat.jpg' alt=''>{catch}")
    assert "小さな友情の物語" not in extract_main_text(photo, "", 10.0).text  # a photo caption stays out


def test_related_boxes_and_teaser_cards_go() -> None:
    lead = "<p>" + "市は十日、駅前の再開発計画を発表した。" * 10 + "</p>"
    teasers = "".join(f"<p>{i}日、市は新しい図書館の計画を発表しました。開館は来年の春です。</p>" for i in range(1, 4))
    box = f"<div class='more'><h3>新着ニュース</h3>{teasers}</div>"
    card = "<a href='/contact'><div><p>取材のお問い合わせ</p><span>担当窓口をご案内いたします。</span></div></a>"
    page = f"<html><body><article><h1>再開発計画</h1>{lead}{box}{card}</article></body></html>"
    text = extract_main_text(page, "", 10.0).text
    assert "再開発計画を発表" in text and "図書館" not in text and "窓口" not in text
    # A heading that is not the box's first child, or is no related heading, leaves its box alone.
    kept = page.replace("<h3>新着ニュース</h3>", "<h3>計画の経緯</h3>")
    assert "図書館" in extract_main_text(kept, "", 10.0).text
    # A link around an image only (a photo that opens larger) is no card.
    photo = page.replace(card, "<a href='/big.jpg'><div><img src='/s.jpg'></div></a>")
    assert extract_main_text(photo, "", 10.0).text == text


def test_text_starts_at_the_headline_the_page_title_names() -> None:
    from jwc.pipeline.extract.maintext import headline_first

    body = "市は十日、駅前の再開発計画を発表した。"
    labels = ["お知らせ", "- 2024.05.02", "- お知らせ一覧へ"]
    text = "\n".join([*labels, "駅前再開発の計画を発表", body])
    assert headline_first("お知らせ", text, "駅前再開発の計画を発表。｜みなと市") == ("駅前再開発の計画を発表",
                                                                            f"駅前再開発の計画を発表\n{body}")
    # A sentence before it is text, not a label; a line the <title> merely begins with is no headline.
    lead = f"{body}\n駅前再開発の計画を発表\n{body}"
    assert headline_first("t", lead, "駅前再開発の計画を発表 - みなと市") == ("t", lead)
    assert headline_first("t", text, "駅前再開発の計画を発表する市長の狙い") == ("t", text)
    page = ("<html><head><title>駅前再開発の計画を発表 | みなと市</title></head><body><h1 id='section-title'>お知らせ"
            f"</h1><article><h1>駅前再開発の計画を発表</h1><p>{body * 12}</p></article></body></html>")
    got = extract_main_text(page, "", 10.0)
    assert got.title == "駅前再開発の計画を発表" and got.text.startswith("駅前再開発の計画を発表\n市は十日")


def test_split_body_parts_move_into_the_first() -> None:
    """wired.jp's case (its real page is in the gold test): the parts of one class end up in one container."""
    from lxml import html as lxml_html

    from jwc.pipeline.extract.maintext import merge_split_body

    first, second = "<p>" + "前半の段落です。" * 25 + "</p>", "<p>" + "後半の段落です。" * 25 + "</p>"
    teaser = "<div class='body'><p>短い紹介文。</p></div>"
    tree = lxml_html.fromstring(f"<html><body><section><div class='body'>{first}</div></section><aside>広告</aside>"
                                f"<section><div class='body'>{second}</div>{teaser}</section></body></html>")
    merged = merge_split_body(tree).xpath("//div[@class='body']")
    assert len(merged) == 2 and "後半" in merged[0].text_content() and merged[1].text_content() == "短い紹介文。"


# Our own article gold for the real pages without one, from what each page shows: an XPath per page over its own
# markup selects the elements whose text is the article (one a line; no page text is copied). The article is its
# body paragraphs, headings, lists, tables and code; not its photo captions and image credits, related-link lists,
# ads and product boxes, share buttons, "continue reading at" notices, author profiles and copyright or licence
# lines (docs/filters.md lists the decision per page). Ruby readings (<rt>) are not text a reader reads. An element
# without a Japanese letter (code, a bare URL, an English credit) is not counted: the corpus drops such lines by
# design (the non_japanese_lines cleaner), so the gold is the article's Japanese text; a table counts row by row, as
# the extractor writes it. An element that is nothing but a link is a related link, not counted either.
# DEV_GOLD: pages read while the cleaner patterns were written. HELDOUT_GOLD: gold written for pages nobody had
# measured, before any change they could steer; their first scores are the "unseen" figures of docs/filters.md
# (four XPaths were corrected afterwards where they missed this definition; the docs give both figures).
DEV_GOLD = {
    "getnews.jp.html": "//div[contains(@class, 'post-bodycopy')]//p",
    "japan.cnet.com.html": "//div[@id='NWrelart:Body']//p",
    "news.mynavi.jp.html": "//div[@id='js-articleBody']/p",
    "wired.jp.html": "//div[contains(@class, 'body__inner-container')]/*[self::p or self::h2]",
    "www.asahi.com.html": "//main[@id='main']//div[@class='nfyQp']//p",
    "www.gizmodo.jp.html": "//div[contains(@class, 'p-post-content')]/p[not(starts-with(., 'Source:'))]",
    "www.itmedia.co.jp.html": "//div[@id='cmsBody']/div[@class='inner']/*[self::p or self::h3]",
    "www.publickey1.jp.html": "//div[contains(@class, 'entrybody')]//p",
    "www.yomiuri.co.jp.html": "//div[contains(@class, 'p-main-contents')]//p",
    "article.auone.jp-tax.html": "//div[@class='article']//p",
    # the story (one paragraph, in the page's layout table) and the closing line every story of the site ends with
    "hukumusume/source.html": "//p[normalize-space() = 'おしまい'] | //p[normalize-space() = 'おしまい']/"
                              "preceding-sibling::p[1]",
}
HELDOUT_GOLD = {
    "buzzap.jp.html": "//div[@class='ctiframe']/p[1]",
    "japan.zdnet.com.html": "//div[@class='article_body']/p[not(contains(., 'でお読みいただけます'))]",
    "sect.iij.ad.jp.html": "//div[@class='entry-inner']/*[self::p or self::h2 or self::ul or self::div[not(@class)]]"
                           " | //tr[contains(@class, 'footnotes_plugin_reference_row')]",
    "takagi-hiromitsu.jp.html": "//div[@class='body']/div[@class='section' or @class='footnote']/*",
    "techlog.iij.ad.jp.html": "//div[contains(@class, 'entry-content')]/*[self::p or self::h2 or self::h3 or self::ul]",
    "weekly.ascii.jp.html": "//div[@id='contents_detail']/*[self::p or self::h2]"
                            " | //div[@id='contents_detail']/table//tr",
    "www.ipa.go.jp.html": "(//div[@class='text'])[1]/*[self::p or self::ul]",
    "www.lifehacker.jp.html": "//div[contains(@class, 'postContent')]/p[not(starts-with(., 'Image:') or "
                              "starts-with(., 'Source:'))]",
    "www.moongift.jp.html": "//div[@class='post_body']/*[self::p or self::h2 or self::pre]",
    "www.ossnews.jp.html": "//div[h3[@class='h2smalltitle']]/*[self::h3 or self::p[not(contains(., 'クリエイティブ'))]]",
    "www.sanwa.co.jp.html": "//div[@class='dual']/*[self::p or self::div[not(@class)]]",
    "1651753632.html": "//div[@class='entry-body-text']/p",
    "yomiuri.co.jp-gaza.html": "//div[contains(@class, 'p-main-contents')]/p",
    "nhk.or.jp.k100.html": "//div[@id='js-article-body']/p",
    "bookwalker.jp.html": "//div[@id='js-summary-collapse-main-product']",
}
# Pages that do not reach the goal: the floors asserted instead (precision, recall), the figures they reach, not to
# get worse; docs/filters.md says why each falls short.
BELOW_GOAL: dict[str, tuple[float, float]] = {
    "takagi-hiromitsu.jp.html": (MIN_PRECISION, 0.940),  # no article frame: trafilatura's wild-text pass takes no lists
}


_JAPANESE = re.compile(f"[{JA_LETTERS}]")
_LINE_BREAK = "\u2029"  # marks a <br> (a newline of the page source is only whitespace)
_NON_WORD = re.compile(r"[\W_]+")


def article_gold(path: Path, xpath: str) -> str:
    """The text of the visible elements the XPath selects, one a line; a `<br>` starts a new line, as in the
    extractor's text, so a bare URL after a `<br>` is a line without Japanese, not counted like a bare-URL element."""
    from lxml import html as lxml_html

    from jwc.pipeline.extract.maintext import prune_hidden

    tree = prune_hidden(lxml_html.fromstring(decode_html(path.read_bytes(), "text/html").text))
    for reading in tree.xpath("//rt | //rp | //script | //style"):
        reading.drop_tree()
    for br in tree.xpath("//br"):
        br.tail = _LINE_BREAK + (br.tail or "")
    lines = (" ".join(line.split()) for e in tree.xpath(xpath) if not _is_link(e)
             for line in e.text_content().split(_LINE_BREAK))
    return "\n".join(line for line in lines if _JAPANESE.search(line))


def _is_link(element) -> bool:
    """Nothing but a link and a bullet (a "■ see also" line): a related link, not article text."""
    text = _NON_WORD.sub("", element.text_content())
    return bool(text) and text == "".join(_NON_WORD.sub("", a.text_content()) for a in element.xpath(".//a"))


def article_scores(published, golds: dict[str, str]) -> dict[str, tuple[float, float]]:
    """name -> (precision, recall) of the published text against the page's article gold."""
    files = {(f"{p.parent.name}/{p.name}" if p.name == "source.html" else p.name): p for _, p in real_pages()}
    scores = {}
    for name, xpath in golds.items():
        gold = article_gold(files[name], xpath)
        assert len(gold) > 150, name
        title, text = published[name]["after"]
        scores[name] = precision_recall(gold, body(text, title))
    print(json.dumps(scores, indent=1))
    return scores


@pytest.mark.parametrize("golds", [DEV_GOLD, HELDOUT_GOLD], ids=["development", "held-out"])
def test_article_gold_precision_and_recall(published, golds: dict[str, str]) -> None:
    """The issue's goal page by page: recall >= 0.98 and precision >= 0.95, or a named page's measured floor."""
    misses = {}
    for name, (p, r) in article_scores(published, golds).items():
        floor_p, floor_r = BELOW_GOAL.get(name, (MIN_PRECISION, MIN_RECALL))
        if p < floor_p or r < floor_r:
            misses[name] = (round(p, 3), round(r, 3))
    assert misses == {}

# --- Near-duplicate short articles wrapped in varying site furniture ---------------------------------------------
# Real article text (Wikinews, 300-1,500 characters) in the templates of six invented news sites. Every copy of an
# article gets its own site, date line, byline, share prompt, notice and related-articles block (real Wikinews
# headlines of other articles), so copies differ in their furniture as pages of different sites do.
# The phrases were written after the cleaner, in the style of the examples; its patterns cover them, so
# this crawl measures what furniture does to dedup, not how well the patterns generalise (docs/filters.md does).
_SITE_NAMES = ("東都新聞", "みなと日報", "北斗タイムズ", "ニュース速報ジャパン", "中央ウェブ", "日刊いろは")
_NAVS = (["ホーム", "政治", "経済", "国際", "社会"], ["トップ", "ニュース", "地域", "くらし"], ["ニュース一覧", "特集", "動画"],
         ["総合", "IT", "科学", "エンタメ"], ["トップページ", "国内", "海外"], ["HOME", "最新記事", "コラム", "お問い合わせ"])
_DATES = ("{y}年{m}月{d}日 {hh}時{mm}分", "{y}/{m:02d}/{d:02d} {hh:02d}:{mm:02d} 更新", "公開日：{y}年{m}月{d}日",
          "{y}.{m}.{d}（{wd}）", "{m}月{d}日 {hh}:{mm:02d} 配信", "{y}年{m}月{d}日")
_BYLINES = ("（{name}記者）", "文：{name}", "{name} 編集委員", "写真：{name}", "By {name}", "取材・文／{name}")
_SHARES = ("この記事をシェア", "シェアする", "ツイート", "はてなブックマークに追加", "Facebookでシェア", "LINEで送る")
_NOTICES = ("この記事は有料会員限定です。続きを読むにはログインしてください。",
            "残り{rest}文字 有料会員になると全ての記事が読み放題です。", "会員登録（無料）で、続きをお読みいただけます。",
            "メールマガジンの購読申し込みはこちらから。毎朝主要ニュースをお届けします。",
            "この記事の続きは会員の方のみお読みいただけます。",
            "有料プランに登録すると、すべての記事と過去の紙面をご覧いただけます。")
_RELATED = ("関連記事", "あわせて読みたい", "おすすめ情報", "関連キーワード", "人気記事", "こちらもおすすめ")
SITES = tuple({"name": n, "nav": v, "date": d, "byline": b, "share": s, "notice": c, "related": r}
              for n, v, d, b, s, c, r in zip(_SITE_NAMES, _NAVS, _DATES, _BYLINES, _SHARES, _NOTICES, _RELATED))
WEEKDAYS = "月火水木金土日"
NAMES = ("佐藤一郎", "鈴木花子", "高橋健", "田中美咲", "伊藤誠", "渡辺彩")
_DESPACE = re.compile(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])")
_SENT = re.compile(r"(?<=。)")


def wikinews_short(min_chars: int = 300, max_chars: int = 1500) -> list[tuple[str, list[str]]]:
    """(headline, paragraphs) of the Wikinews articles of min..max characters."""
    path = shared_data("ja_text_wikinews", "articles-a.tsv.gz")
    csv.field_size_limit(1 << 30)
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            paras = [_DESPACE.sub("", p).strip() for p in re.split(r" {2,}", row["article"])]
            paras = [p for p in paras if p]
            if min_chars <= sum(map(len, paras)) <= max_chars:
                out.append((_DESPACE.sub("", row["headline"]).strip(), paras))
    return out


def shingles(text: str) -> set[str]:
    s = _SPACE.sub("", text)
    return {s[i:i + 5] for i in range(len(s) - 4)}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def edited(paras: list[str], rng: random.Random, target: float) -> list[str]:
    """A copy with single characters replaced (a typo fix, a changed number) until its article Jaccard with the
    original would fall below `target`: the last copy at or above it."""
    text = "\n".join(paras)
    spots = [i for i, c in enumerate(text) if not c.isspace()]
    rng.shuffle(spots)
    best = text
    for n in range(1, len(spots)):
        chars = list(text)
        for i in spots[:n]:
            chars[i] = rng.choice("のにはをがとでも一二三四五六七八九十年月日人")
        candidate = "".join(chars)
        if jaccard(text, candidate) < target:
            break
        best = candidate
    return best.split("\n")


def rewritten(paras: list[str], other: list[str]) -> list[str]:
    """A copy that keeps the first third of the sentences and continues with another article's: Jaccard < 0.6."""
    mine = [s for p in paras for s in _SENT.split(p) if s]
    theirs = [s for p in other for s in _SENT.split(p) if s]
    keep = max(1, len(mine) // 3)
    return ["".join(mine[:keep]), "".join(theirs[:max(2, len(mine) - keep)])]


def page(headline: str, paras: list[str], site: dict, rng: random.Random, related: list[str]) -> bytes:
    """One article page of a site: navigation, breadcrumb, headline, date line, byline, share prompt, the
    paragraphs, a notice, a related-articles block and a footer."""
    y, m, d, hh, mm = 2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
    date = site["date"].format(y=y, m=m, d=d, hh=hh, mm=mm, wd=WEEKDAYS[rng.randrange(7)])
    nav = "".join(f"<li><a href='/{i}'>{n}</a></li>" for i, n in enumerate(site["nav"]))
    body = "".join(f"<p>{p}</p>" for p in paras)
    items = "".join(f"<li><a href='/a/{rng.randrange(10**6)}'>{h}</a></li>" for h in related)
    notice = site["notice"].format(rest=rng.randint(300, 3000))
    html = (
        f"<html lang='ja'><head><meta charset='utf-8'><title>{headline} | {site['name']}</title></head><body>"
        f"<header><h2>{site['name']}</h2><ul class='nav'>{nav}</ul></header>"
        f"<div class='crumb'><a href='/'>{site['nav'][0]}</a> &gt; <a href='/n'>{site['nav'][1]}</a> &gt; "
        f"{headline}</div><article><h1>{headline}</h1><p class='date'>{date}</p>"
        f"<p class='byline'>{site['byline'].format(name=rng.choice(NAMES))}</p>"
        f"<p class='sns'>{site['share']}</p>{body}<p class='notice'>{notice}</p>"
        f"<section><h2>{site['related']}</h2><ul>{items}</ul></section></article>"
        f"<footer><p>Copyright © {site['name']} All Rights Reserved.</p></footer></body></html>"
    )
    return html.encode("utf-8")


def build_crawl(n_articles: int, seed: int) -> tuple[list[tuple[str, bytes, str]], dict[str, tuple[int, str, str]]]:
    """Pages of n_articles families (original, two exact copies, two edited copies at Jaccard 0.85-0.98, one
    rewrite below 0.6), each page on a different site; url -> (family, article text, headline)."""
    rng = random.Random(seed)
    articles = wikinews_short()
    rng.shuffle(articles)
    chosen, others = articles[:n_articles], articles[n_articles:]
    pages, truth = [], {}
    for fam, (headline, paras) in enumerate(chosen):
        copies = [paras, paras, paras, edited(paras, rng, rng.uniform(0.85, 0.98)),
                  edited(paras, rng, rng.uniform(0.85, 0.98)), rewritten(paras, others[fam][1])]
        sites = rng.sample(SITES, len(copies))
        for k, (copy, site) in enumerate(zip(copies, sites)):
            url = f"https://site{SITES.index(site)}.example/{fam}/{k}"
            related = [h for h, _ in rng.sample(others, rng.randint(3, 6))]
            pages.append((url, page(headline, copy, site, rng, related), "text/html; charset=utf-8"))
            truth[url] = (fam, "\n".join(copy), headline)
    return pages, truth


def run_pipeline(spark, warc: Path, out: Path, cfg: config.Config
                 ) -> tuple[set[str], dict[str, str], int, dict[str, str]]:
    """extract -> filter -> dedup in Spark local mode: (urls that survive, url -> cluster root of every
    document that reached dedup, documents the filter dropped, url -> published text of every document)."""
    from jwc.jobs.dedup import run_dedup
    from jwc.jobs.extract import kept_documents, run_extract
    from jwc.jobs.filter import run_filter
    from jwc.pipeline.io.inputs import resolve_inputs

    run_extract(spark, resolve_inputs(spark, [str(warc)]), str(out / "extract"), cfg, "BOILER")
    run_filter(spark, kept_documents(spark, str(out / "extract")), str(out / "filter"), cfg)
    filtered = spark.read.parquet(str(out / "filter" / "documents"))
    dropped = filtered.where("not keep").count()
    texts = {r["url"]: r["text"] for r in filtered.select("url", "text").collect()}
    kept = filtered.where("keep").drop("keep", "reject_reason", "reject_reasons")
    run_dedup(spark, kept, str(out / "dedup"), cfg["dedup"])
    survivors = {r["url"] for r in spark.read.parquet(str(out / "dedup" / "documents")).select("url").collect()}
    url_of = {r["doc_id"]: r["url"] for r in kept.select("doc_id", "url").collect()}
    parent = {u: u for u in url_of.values()}
    for r in spark.read.parquet(str(out / "dedup" / "duplicates")).select("doc_id", "duplicate_of").collect():
        parent[url_of[r["doc_id"]]] = url_of[r["duplicate_of"]]

    def root(u: str) -> str:
        while parent[u] != u:
            u = parent[u]
        return u

    return survivors, {u: root(u) for u in parent}, dropped, texts


def pair_rates(truth: dict[str, tuple[int, str, str]], survivors: set[str], roots: dict[str, str]) -> dict[str, float]:
    """Over the pairs of copies of one article that both reached dedup: share of pairs with article Jaccard
    >= 0.85 of which at most one survives, and number of pairs below 0.6 that share a cluster."""
    families: dict[int, list[str]] = {}
    for url, (fam, _, _) in truth.items():
        if url in roots:
            families.setdefault(fam, []).append(url)
    near = removed = far = merged = 0
    for urls in families.values():
        for a, b in itertools.combinations(urls, 2):
            j = jaccard(truth[a][1], truth[b][1])
            if j >= 0.85:
                near += 1
                removed += not (a in survivors and b in survivors)
            elif j < 0.6:
                far += 1
                merged += roots[a] == roots[b]
    return {"near_pairs": near, "near_removed": removed / near, "far_pairs": far, "far_merged": merged}


@pytest.fixture(scope="module")
def furniture_crawl(spark, tmp_path_factory) -> dict:
    """The crawl run through the pipeline as configured, and with the furniture cleaner and hidden-element
    pruning off (the state before them)."""
    tmp = tmp_path_factory.mktemp("furniture")
    pages, truth = build_crawl(n_articles=80, seed=15)
    write_warc(tmp / "crawl.warc.gz", pages)
    result = {"truth": truth, "pages": len(pages)}
    before = config.load(overrides={"cleaners": {"furniture": {"enabled": False}},
                                    "extract": {"prune_hidden": False}})
    for name, cfg in (("after", config.load()), ("before", before)):
        survivors, roots, dropped, texts = run_pipeline(spark, tmp / "crawl.warc.gz", tmp / name, cfg)
        scores = [precision_recall(f"{truth[u][2]}\n{truth[u][1]}", t) for u, t in texts.items()]
        result[name] = {**pair_rates(truth, survivors, roots), "reached_dedup": len(roots),
                        "filtered_out": dropped, "survivors": len(survivors),
                        "mean_precision": sum(p for p, _ in scores) / len(scores),
                        "mean_recall": sum(r for _, r in scores) / len(scores)}
    print(json.dumps({k: v for k, v in result.items() if k != "truth"}, indent=1))
    return result


def test_short_near_duplicates_in_furniture_are_removed(furniture_crawl) -> None:
    after, before = furniture_crawl["after"], furniture_crawl["before"]
    assert after["reached_dedup"] >= 0.98 * furniture_crawl["pages"]
    assert after["near_pairs"] >= 700
    assert after["near_removed"] >= 0.99
    assert after["far_pairs"] >= 100 and after["far_merged"] == 0
    assert before["near_removed"] < after["near_removed"]  # the furniture is what hid these duplicates
    # What the cleaners publish of each page against its headline and article text: furniture goes, text stays.
    assert after["mean_precision"] >= 0.99 > before["mean_precision"]
    assert after["mean_recall"] >= before["mean_recall"] - 0.001
