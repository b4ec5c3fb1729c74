"""The demo hospital's institution record and its provisions abroad in 2026 (数据出境, issue #20).

:func:`load_demo_records` runs after the demo inventory is imported (``Service.load_demo``). It
sets the institution record (:data:`DEMO_INSTITUTION`: the fictional hospital, not a critical
information infrastructure operator, so the counted thresholds of the cross-border rules apply)
and records, as actor ``demo``, three provisions that happened, in the order of their days. The
people provided abroad are counted from 1 January 2026 (``kg.transfer_records``); each record's
subjects are its asset's subject count (``数据主体数量``) where it has one.

(a) 2026-10-09, ``pkg-global-mr-helium-2026q3`` → ``mfr-global`` (西诺医疗全球远程服务平台),
    0 people: MR helium telemetry, no personal information and not important data, so data kind
    "none" and rule XB-none: **exempt**, nothing to show, compliant.

(b) 2026-11-16, ``pkg-intl-imaging-workflow-2026`` → ``intl-research`` (海外多中心影像研究联盟),
    163,420 people: imaging appointments and workflow of January–October, de-identified (age
    group, sex, exam month, reject reasons under a research pseudonym). Still personal
    information, but not health-related: what it carries is 个人基本资料 and 个人标识符 (from the
    US worklists and DR reject analysis, whose data templates name no health information), and
    none of it is sensitive, so XB-health-storage does not forbid it. 163,420 people this year
    (none before) lies in 100,000–999,999: XB-pi-100k gives **standard contract or
    certification**, and XB-pipl asks for separate consent and a PI impact assessment. The record
    has the standard-contract filing, the consent records and the assessment: compliant. Its
    effective level, 一般数据3级 (capped by the approved de-identification), is within the
    partner's clearance.

(c) 2026-11-25, ``pkg-intl-dr-operators-2026q3`` → ``intl-research``, 76 people: DR operators'
    workload data, pseudonymised staff identifiers (personal information, not health-related).
    Few people, but the year's count is now 163,496, still in the standard-contract band, and the
    filing of (b) does not cover this data set: the record has the consent and the impact
    assessment but no standard-contract filing or certification. **R16 Violation by design**
    (the mechanism's evidence is missing): the demo shows that a small provision abroad is judged
    by the year's cumulative count, not by its own size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.demo.generate import DEMO_TODAY

if TYPE_CHECKING:
    from kg.service import Service

ACTOR = "demo"
YEAR = 2026


@dataclass(frozen=True, slots=True)
class DemoInstitution:
    name: str
    ciio: bool
    justification: str


DEMO_INSTITUTION = DemoInstitution(
    name="南江市第一人民医院（演示医院）",
    ciio=False,
    justification="示范医院的机构记录（演示数据，非关键信息基础设施运营者）/ the demo hospital's institution record "
    "(demo data; not a critical information infrastructure operator)",
)


@dataclass(frozen=True, slots=True)
class DemoTransfer:
    """One provision of the demo (see the module)."""

    key: str  # a, b or c, as in the module docstring
    asset: str
    destination: str
    on: dt.date
    subjects: int
    evidence: tuple[str, ...]  # KIND=REFERENCE
    justification: str


DEMO_TRANSFERS: tuple[DemoTransfer, ...] = (
    DemoTransfer(
        "a",
        "pkg-global-mr-helium-2026q3",
        "mfr-global",
        dt.date(2026, 10, 9),
        0,
        (),
        "示范：MR-01 液氦遥测提供厂家境外远程监测平台，不含个人信息（免予申报）/ "
        "demo: MR helium telemetry for the manufacturer's remote monitoring abroad, no personal information (exempt)",
    ),
    DemoTransfer(
        "b",
        "pkg-intl-imaging-workflow-2026",
        "intl-research",
        dt.date(2026, 11, 16),
        163420,
        (
            "standard_contract_filing=粤网信备〔2026〕0412号",
            "separate_consent=影像检查出境单独同意记录 KY-2026-131（RIS 同意书台账）",
            "pi_impact_assessment=PIA-2026-007 个人信息保护影响评估报告",
        ),
        "示范：影像检查流程去标识化数据集提供海外多中心影像研究联盟，本年累计超过 10 万人，已订立标准合同并备案 / "
        "demo: de-identified imaging workflow data for the research partner abroad; over 100,000 people this year, "
        "standard contract filed",
    ),
    DemoTransfer(
        "c",
        "pkg-intl-dr-operators-2026q3",
        "intl-research",
        dt.date(2026, 11, 25),
        76,
        (
            "separate_consent=DR 操作人员出境单独同意书（医学工程处 2026-11）",
            "pi_impact_assessment=PIA-2026-009 个人信息保护影响评估报告",
        ),
        "示范：DR 操作人员工作负荷数据提供海外多中心影像研究联盟，标准合同备案未覆盖（R16 违规示例）/ "
        "demo: DR operators' workload data for the research partner abroad, not covered by the standard-contract "
        "filing (an R16 violation by design)",
    ),
)


def load_demo_records(svc: Service) -> None:
    """Set the demo's institution record and record its provisions abroad (see the module). Does
    nothing when the store already has an institution record or transfer records of 2026. Needs
    the demo inventory; on a clock set before the demo's date the records are written as of it."""
    if svc.institution() is not None or svc.transfer_records(YEAR)["items"]:
        return
    previous, demo_day = svc.as_of, dt.date.fromisoformat(DEMO_TODAY)
    if svc.today() < demo_day:  # the provisions are dated up to the demo's date
        svc.as_of = demo_day
    try:
        svc.set_institution(
            actor=ACTOR,
            name=DEMO_INSTITUTION.name,
            ciio=DEMO_INSTITUTION.ciio,
            justification=DEMO_INSTITUTION.justification,
        )
        for t in DEMO_TRANSFERS:
            svc.record_transfer(
                t.asset,
                t.destination,
                subjects=t.subjects,
                actor=ACTOR,
                on=t.on,
                evidence=list(t.evidence),
                justification=t.justification,
                validate=False,  # Service.initialize validates the whole demo next
            )
    finally:
        svc.as_of = previous
