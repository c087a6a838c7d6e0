"""Host and URL blocklists: plain domain files, the UT1 folder layout, parent domains and URL prefixes."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from jwc.filters.base import Doc
from jwc.filters.blocklist import BlocklistFilter, normalise_host


@pytest.fixture()
def ut1(tmp_path: Path) -> Path:
    root = tmp_path / "blacklists"
    for category, domains, urls in [
        ("adult", "# adult sites\nporn-example.com\n*.xxx-site.jp\nwww.exact-www.net\n", "video.example.org/adult\n"),
        ("gambling", "casino-example.net\n", ""),
        ("bank", "mybank.co.jp\n", ""),  # benign UT1 category, not loaded by default
    ]:
        (root / category).mkdir(parents=True)
        (root / category / "domains").write_text(domains, encoding="utf-8")
        if urls:
            (root / category / "urls").write_text(urls, encoding="utf-8")
    return root


def test_ut1_layout_hosts_parents_and_urls(ut1: Path) -> None:
    f = BlocklistFilter({"lists": [str(ut1)]})
    assert len(f.blocklist) == 5  # bank is not loaded
    cases = {
        ("porn-example.com", "https://porn-example.com/"): (1.0, 0.0),
        ("", "https://WWW.Porn-Example.COM:8443/a/b"): (1.0, 0.0),  # host taken from the URL, case, port
        ("img.cdn.xxx-site.jp", "http://img.cdn.xxx-site.jp/x.jpg"): (1.0, 0.0),  # parent domain
        ("xxx-site.jp.example.com", "http://xxx-site.jp.example.com/"): (0.0, 0.0),  # not a parent
        ("notporn-example.com", "http://notporn-example.com/"): (0.0, 0.0),  # label boundary
        ("casino-example.net", "http://casino-example.net/"): (1.0, 0.0),
        ("mybank.co.jp", "https://mybank.co.jp/"): (0.0, 0.0),
        ("www.example.org", "https://www.example.org/video.example.org"): (0.0, 0.0),
        ("video.example.org", "https://video.example.org/adult/clip/1?x=2"): (0.0, 1.0),  # URL prefix
        ("www.video.example.org", "http://www.video.example.org/adult"): (0.0, 1.0),
        ("video.example.org", "https://video.example.org/adulthood"): (0.0, 0.0),  # segment boundary
        ("www.exact-www.net", "http://www.exact-www.net/"): (1.0, 0.0),
        ("exact-www.net", "http://exact-www.net/"): (0.0, 0.0),
    }
    for (host, url), expected in cases.items():
        sig = f.signals(Doc("本文", url=url, host=host))
        assert (sig["blocklist_host"], sig["blocklist_url"]) == expected, (host, url)
    assert f.decide(f.signals(Doc("", url="http://a.porn-example.com/"))) == ["blocklist.host_listed"]
    assert f.decide(f.signals(Doc("", url="https://video.example.org/adult/1"))) == ["blocklist.url_listed"]
    assert f.categories(Doc("", url="http://casino-example.net/x")) == ("gambling", None)

    with_bank = BlocklistFilter({"lists": [str(ut1)], "ut1_categories": ["bank"]})
    assert with_bank.categories(Doc("", url="https://www.mybank.co.jp/")) == ("bank", None)


def test_plain_files_idn_and_ips(tmp_path: Path) -> None:
    plain = tmp_path / "spam_hosts.txt"
    plain.write_text("# hosts-file style and plain lines\n0.0.0.0 ads.example.com\n例え.jp\n203.0.113.9\n"
                     "https://shop.example.net/fake/\n\n", encoding="utf-8")
    f = BlocklistFilter({"lists": [str(plain)]})
    assert f.categories(Doc("", url="http://x.ads.example.com/")) == ("spam_hosts", None)
    assert f.categories(Doc("", url="http://www.例え.jp/")) == ("spam_hosts", None)
    assert f.categories(Doc("", url="http://xn--r8jz45g.jp/")) == ("spam_hosts", None)
    assert f.categories(Doc("", url="http://203.0.113.9/page")) == ("spam_hosts", None)
    assert f.categories(Doc("", url="http://9.203.0.113.9/page")) == (None, None)
    assert f.categories(Doc("", url="http://shop.example.net/fake/item?id=1")) == (None, "spam_hosts")
    assert normalise_host("User@Example.COM.:80") == "example.com"


def test_no_lists_is_a_no_op_and_missing_paths_fail(tmp_path: Path) -> None:
    f = BlocklistFilter()
    sig = f.signals(Doc("本文", url="http://porn-example.com/"))
    assert math.isnan(sig["blocklist_host"]) and math.isnan(sig["blocklist_url"]) and f.decide(sig) == []
    with pytest.raises(FileNotFoundError):
        BlocklistFilter({"lists": [str(tmp_path / "nope")]})
