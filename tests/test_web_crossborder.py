"""Leaving the country (数据出境, issue #20) in the web interface, without a browser: the transfer
check page takes a purpose and evidence (KIND=REFERENCE lines) and shows the mechanism, the
prohibitions, the year's counts, the basis and the missing evidence for a destination abroad; bad
input is an error on the page, never a 500; the dashboard shows this year's cross-border totals
against the thresholds, by destination and mechanism, with the records not compliant (R16)."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from rdflib import URIRef

from tests.helpers import demo_client

HELIUM = "pkg-global-mr-helium-2026q3"  # device telemetry, no personal information: exempt
ICU = "rdp-icu-pseudo-2026q3"  # health-related personal information: prohibited abroad
REMOTE = "mr-01-remote-service-2026q3"  # personal information of 14 people, not health-related
ABROAD = "mfr-global"


class Node:
    """An element: its tag, attributes, child elements and content (text and elements in order)."""

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node] = []
        self.parts: list[Node | str] = []

    @property
    def text(self) -> str:
        out = [p.text if isinstance(p, Node) else p for p in self.parts]
        return " ".join(" ".join(out).split())

    def find_all(self, **attrs: str) -> list[Node]:
        found = []
        for c in self.children:
            if all(c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                found.append(c)
            found.extend(c.find_all(**attrs))
        return found

    def find(self, **attrs: str) -> Node:
        found = self.find_all(**attrs)
        assert len(found) == 1, (attrs, len(found))
        return found[0]

    def has(self, **attrs: str) -> bool:
        return bool(self.find_all(**attrs))


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Tree(HTMLParser):
    """The page as a tree of nodes with their attributes and text (stdlib parser)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        self.stack[-1].parts.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def page(client, path: str, **params: object) -> Node:  # type: ignore[no-untyped-def]
    r = client.get(path + ("?" + urlencode(params, doseq=True) if params else ""))
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return Tree(r.text).root


@pytest.fixture
def client(tmp_path: Path) -> Iterator[object]:
    """The demo hospital without its institution record and transfer records (the demo's own are
    tested in tests/test_demo_crossborder.py): the year's counts start at 0, the CIIO status is
    unknown."""
    from kg.namespaces import MG
    from kg.store import Changeset, Graphs

    with demo_client(tmp_path, ("reader",), "xbweb") as c:
        svc = c.service  # type: ignore[attr-defined]
        records = {URIRef(str(r[0])) for r in svc.store.rows(
            f"SELECT ?r WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ ?r a <{MG.TransferRecord}> }} }}"
        )}  # fmt: skip
        assert records, "the demo has transfer records"
        institution = URIRef(f"{svc.ids.base}institution")
        svc.store.apply(Changeset(Graphs.INVENTORY, subjects=records | {institution}))
        assert svc.institution() is None and not svc.transfer_records(2026)["items"]
        yield c


def test_the_form_offers_purposes_and_evidence(client) -> None:  # type: ignore[no-untyped-def]
    doc = page(client, "/ui/transfer")
    options = doc.find(data_testid="purpose").find_all()
    values = [o.attrs.get("value") for o in options if o.tag == "option"]
    assert values == ["", "contract", "emergency", "hr"]
    assert "订立、履行个人作为一方当事人的合同所必需" in doc.find(data_testid="purpose").text
    assert doc.find(data_testid="evidence").tag == "textarea"
    assert "standard_contract_filing" in doc.find(data_testid="evidence-kinds").text
    assert not doc.has(data_testid="cross-border")  # nothing checked yet
    en = page(client, "/ui/transfer", lang="en")
    assert "needed for a contract with the individual" in en.find(data_testid="purpose").text


def test_telemetry_abroad_is_exempt(client) -> None:  # type: ignore[no-untyped-def]
    doc = page(client, "/ui/transfer", asset=HELIUM, destination=ABROAD)
    assert doc.find(data_testid="verdict").attrs["data-allowed"] == "true"
    xb = doc.find(data_testid="cross-border")
    assert xb.attrs["data-mechanism"] == "exempt"
    assert xb.find(data_testid="mechanism").text == "免予申报"
    assert not xb.has(data_testid="prohibitions") and not xb.has(data_testid="missing-evidence")
    basis = xb.find(data_testid="basis").find_all(data_rule="XB-none")
    assert len(basis) == 1 and "免予申报安全评估" in basis[0].text and "第三条" in basis[0].text
    en = page(client, "/ui/transfer", asset=HELIUM, destination=ABROAD, lang="en")
    assert en.find(data_testid="mechanism").text == "exempt"
    assert "is exempt from the assessment" in en.find(data_testid="basis").text


def test_health_data_abroad_is_prohibited(client) -> None:  # type: ignore[no-untyped-def]
    doc = page(client, "/ui/transfer", asset=ICU, destination=ABROAD, purpose="contract")
    assert doc.find(data_testid="verdict").attrs["data-allowed"] == "false"
    xb = doc.find(data_testid="cross-border")
    assert xb.attrs["data-mechanism"] == "prohibited"
    assert xb.find(data_testid="mechanism").text == "禁止出境"
    items = xb.find(data_testid="prohibitions").find_all(data_rule="XB-health-storage")
    assert len(items) == 1 and "人口健康信息不得存储于境外" in items[0].text
    assert "国卫规划发〔2014〕24号" in items[0].text  # its source
    rules = [li.attrs["data-rule"] for li in xb.find(data_testid="basis").find_all() if li.tag == "li"]
    assert "XB-purpose-contract" in rules and "XB-health-storage" in rules  # the purpose was passed on
    assert "" in rules  # the note without a rule: the handler's CIIO status is unknown
    with_this = xb.find(data_testid="xb-counts").find(data_row="with_this")
    assert [td.text for td in with_this.find_all(data_count="subjects")] == ["191"]
    assert [td.text for td in with_this.find_all(data_count="sensitive_subjects")] == ["191"]
    before = xb.find(data_testid="xb-counts").find(data_row="year_before")
    assert [td.text for td in before.find_all(data_count="subjects")] == ["0"]
    assert doc.find(data_testid="purpose").find(value="contract").attrs.get("selected") is not None


def test_missing_evidence_and_evidence_given(client) -> None:  # type: ignore[no-untyped-def]
    doc = page(client, "/ui/transfer", asset=REMOTE, destination=ABROAD)
    xb = doc.find(data_testid="cross-border")
    assert xb.attrs["data-mechanism"] == "security_assessment"
    missing = xb.find(data_testid="missing-evidence").find_all(data_required_by="XB-pipl")
    assert len(missing) == 2
    assert any("出境前须具备：个人单独同意" in li.text for li in missing)
    en = page(client, "/ui/transfer", asset=REMOTE, destination=ABROAD, lang="en")
    assert "before leaving the country this needs: separate consent" in en.find(data_testid="missing-evidence").text
    # the evidence, one a line with blank lines and spaces around, takes those items off the list
    lines = "separate_consent=C-2026-1\n\n  pi_impact_assessment=PIA-7  \n"
    doc = page(client, "/ui/transfer", asset=REMOTE, destination=ABROAD, evidence=lines)
    left = doc.find(data_testid="missing-evidence").find_all()
    assert [li.attrs["data-required-by"] for li in left if li.tag == "li"] == ["security_assessment"]
    text = doc.find(data_testid="evidence").text
    assert "separate_consent=C-2026-1" in text and "pi_impact_assessment=PIA-7" in text
    # with the security assessment approval as well, nothing is missing
    lines += "security_assessment_approval=国网信-2026-3"
    doc = page(client, "/ui/transfer", asset=REMOTE, destination=ABROAD, evidence=lines)
    assert not doc.has(data_testid="missing-evidence")
    assert doc.find(data_testid="cross-border").attrs["data-mechanism"] == "security_assessment"


def test_a_domestic_destination_has_no_cross_border_section(client) -> None:  # type: ignore[no-untyped-def]
    doc = page(client, "/ui/transfer", asset=ICU, destination="nhic")
    assert doc.has(data_testid="verdict") and not doc.has(data_testid="cross-border")


@pytest.mark.parametrize(
    ("params", "zh", "en"),
    [
        ({"purpose": "tourism"}, "未知的出境目的", "unknown transfer purpose"),
        ({"evidence": "no equals sign"}, "不是 种类=编号 的形式", "is not KIND=REFERENCE"),
        ({"evidence": "no_such_kind=X-1"}, "未知的证明材料种类", "unknown evidence kind"),
    ],
    ids=["purpose", "malformed-evidence", "unknown-evidence-kind"],
)
def test_bad_input_is_an_error_on_the_page(client, params: dict[str, str], zh: str, en: str) -> None:  # type: ignore[no-untyped-def]
    for lang, message in (("zh", zh), ("en", en)):
        r = client.get("/ui/transfer?" + urlencode({"asset": HELIUM, "destination": ABROAD, "lang": lang, **params}))
        assert r.status_code < 500, r.text[:500]
        doc = Tree(r.text).root
        errors = doc.find_all(role="alert")
        assert len(errors) == 1 and message in errors[0].text
        assert not doc.has(data_testid="verdict")


def test_the_dashboard_shows_the_years_cross_border_totals(client) -> None:  # type: ignore[no-untyped-def]
    svc = client.service
    year = svc.today().year
    panel = page(client, "/ui/").find(data_testid="cross-border-year")
    assert panel.attrs["data-year"] == str(year)
    assert panel.find(data_testid="xb-subjects").text == "0" and panel.find(data_testid="xb-not-compliant").text == "0"
    assert "本年尚无提供记录" in panel.find(data_testid="xb-by-destination").text
    thresholds = panel.find(data_testid="xb-thresholds")
    assert {tr.attrs["data-rule"] for tr in thresholds.find_all() if tr.tag == "tr" and "data-rule" in tr.attrs} >= {
        "XB-spi-1",
        "XB-pi-100k",
    }
    assert thresholds.find(data_rule="XB-spi-1").attrs["data-reached"] == "false"

    # 14 people without evidence (a security assessment for a handler that may be a CIIO: R16
    # fails), then 20 with 3 sensitive for a contract with the evidence the rules ask for
    svc.record_transfer(REMOTE, ABROAD, subjects=14, actor="steward")
    svc.record_transfer(
        REMOTE,
        ABROAD,
        subjects=20,
        sensitive=3,
        actor="steward",
        purpose="contract",
        evidence=["separate_consent=C-1", "pi_impact_assessment=PIA-1"],
    )
    svc.record_transfer(HELIUM, ABROAD, subjects=0, actor="steward")
    doc = page(client, "/ui/")
    panel = doc.find(data_testid="cross-border-year")
    assert panel.find(data_testid="xb-records").text == "3"
    assert panel.find(data_testid="xb-subjects").text == "34"
    assert panel.find(data_testid="xb-sensitive").text == "3"
    assert panel.find(data_testid="xb-not-compliant").text == "1"
    thresholds = panel.find(data_testid="xb-thresholds")
    spi = thresholds.find(data_rule="XB-spi-1")
    assert spi.attrs["data-reached"] == "true" and "不满1万人敏感个人信息须标准合同或认证" in spi.text
    assert thresholds.find(data_rule="XB-spi-10k").attrs["data-reached"] == "false"
    assert thresholds.find(data_rule="XB-pi-100k").attrs["data-reached"] == "false"
    table = panel.find(data_testid="xb-by-destination")
    rows = {
        tr.attrs["data-mechanism"]: [td.text for td in tr.find_all() if td.tag == "td"]
        for tr in table.find_all(data_destination=ABROAD)
    }
    assert rows["exempt"] == [ABROAD, "免予申报", "2", "20", "3", "0"]
    assert rows["security_assessment"] == [ABROAD, "数据出境安全评估", "1", "14", "0", "1"]
    en = page(client, "/ui/", lang="en").find(data_testid="cross-border-year")
    assert "sensitive PI of 1 to 9,999 people" in en.find(data_testid="xb-thresholds").text
    assert "security assessment" in en.find(data_testid="xb-by-destination").text
    assert "CIIO is unknown" in en.text  # no institution record yet

    svc.set_institution(actor="steward", name="示范医院", ciio=False)
    panel = page(client, "/ui/").find(data_testid="cross-border-year")
    assert "未知" not in panel.text
