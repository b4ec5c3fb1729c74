"""The context of an element (the message or resource it sits in) and the rules the standards'
own definitions give for it.

A :class:`Context` says whether the message or resource concerns a patient: an HL7 v2 message
with a PID segment, a FHIR resource with a ``subject``/``patient`` reference or a Bundle with a
Patient. In that context an observation value, an order number or the patient's assigned
location is about that patient (R4). Without context (``medgrade classify PID-5``) nothing changes.

The rules read the data type and the container from the standards' packages, never a list of
element names:

- HL7 ``SI`` (sequence ID) numbers a segment's repetitions: not an identifier of anyone;
- HL7 ``EI``/``EIP``/``CX`` (entity, entity pair, extended composite identifiers) of an order,
  visit or specimen identify the patient's record in patient context (personal identifiers);
- HL7 ``PL`` (person location) is where the patient is: precise location in patient context;
- a FHIR element of a resource that describes no person (Device, Organization, Location: no
  ``gender`` and ``birthDate``) is not a person's data unless its own type is ``HumanName``:
  ``Device.contact`` is the manufacturer's support ContactPoint, ``Device.name`` the device's;
  an element R5 does not define (an R4 file's ``Organization.telecom``) still belongs to its
  resource (:attr:`Context.owner_no_person`);
- a FHIR ``Reference`` named ``subject`` or ``patient`` (the record's subject, by the
  specification's own element) identifies the patient in patient context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.classify.standards import StandardElement

HL7_SEQUENCE_TYPES = frozenset({"SI"})
HL7_IDENTIFIER_TYPES = frozenset({"EI", "EIP", "CX"})
HL7_LOCATION_TYPES = frozenset({"PL"})
FHIR_PERSON_TYPES = frozenset({"HumanName"})
FHIR_SUBJECT_ELEMENTS = frozenset({"subject", "patient"})

_MG = "https://w3id.org/medgrade/def#"


@dataclass(frozen=True, slots=True)
class Context:
    """What the message or resource around an element says; the default is no context."""

    about_patient: bool = False
    why_zh: str = ""  # "同一消息含 PID 段"
    why_en: str = ""  # "in a message with a PID segment"
    #: the FHIR resource type the element sits in when its definition refers to no person
    #: (Organization, Location): an element R5 does not define (an R4 file's) still belongs to it
    owner_no_person: str = ""


NO_CONTEXT = Context()


@dataclass(slots=True)
class Adjustment:
    """What the standard's definition changes in a suggestion."""

    not_a_person: bool = False  # drop person categories and personal words of the name
    says_nothing: bool = False  # a sequence number: not even R4's "next to patient data" applies
    personal: list[str] = field(default_factory=list)  # personal-information IRIs to add
    reasons: list[str] = field(default_factory=list)


def adjust(element: StandardElement | None, context: Context, equipment: bool) -> Adjustment:
    """The rules for ``element`` in ``context``; ``equipment``: its category identifies equipment
    (R4 already decides those next to patient data)."""
    out = Adjustment()
    if element is None:
        if context.owner_no_person:  # Organization.telecom of an R4 file: R5 has no such element
            owner = context.owner_no_person
            out.not_a_person = True
            out.reasons.append(
                f"FHIR {owner} 的定义不涉及任何人；该元素不在 FHIR R5 定义中，但属于该{owner}，不是患者或人员的信息"
                f" / FHIR {owner}'s definition refers to no person; the element is not in the FHIR R5"
                f" definitions but belongs to the {owner}, not to a patient or a member of staff"
            )
        return out
    where_zh, where_en = context.why_zh or "同一上下文含患者", context.why_en or "next to patient data"
    dtype = element.datatype
    if element.standard == "HL7 v2":
        if dtype in HL7_SEQUENCE_TYPES:
            out.not_a_person = out.says_nothing = True
            out.reasons.append(
                f"HL7 v2 {element.ident} 数据类型 SI（序号）：只为段的重复编号，不识别任何人"
                f" / HL7 v2 {element.ident} is of data type SI (sequence ID): it numbers the segment's"
                " repetitions and identifies no one"
            )
        elif context.about_patient and not equipment and dtype in HL7_IDENTIFIER_TYPES:
            out.personal.append(f"{_MG}PersonalIdentifiers")
            out.reasons.append(
                f"HL7 v2 {element.ident} 数据类型 {dtype}（实体标识）：{where_zh}，标识该患者的记录"
                f" / HL7 v2 {element.ident} is of data type {dtype} (an identifier): {where_en}, it"
                " identifies this patient's record"
            )
        elif context.about_patient and not equipment and dtype in HL7_LOCATION_TYPES:
            out.personal.append(f"{_MG}PreciseLocationInformation")
            out.reasons.append(
                f"HL7 v2 {element.ident} 数据类型 PL（人员位置）：{where_zh}，是该患者所在位置"
                f" / HL7 v2 {element.ident} is of data type PL (person location): {where_en}, it is"
                " where this patient is"
            )
        elif dtype in HL7_LOCATION_TYPES and not equipment:
            out.reasons.append(
                "R4：数据类型 PL（人员位置），与患者数据同处时为其位置 / R4: data type PL (person"
                " location): next to patient data it is the patient's whereabouts"
            )
    elif element.standard == "FHIR":
        if element.person is False and dtype not in FHIR_PERSON_TYPES:
            out.not_a_person = True
            out.reasons.append(
                f"FHIR {element.context_key} 不描述人（其定义无 gender 与 birthDate）：{element.ident}"
                f" 属于该{element.context_key}，不是患者或人员的信息 / FHIR {element.context_key} describes"
                f" no person (no gender and birthDate in its definition): {element.ident} belongs to"
                f" the {element.context_key}, not to a patient or a member of staff"
            )
        name = element.ident.rsplit(".", 1)[-1]
        if context.about_patient and dtype == "Reference" and name in FHIR_SUBJECT_ELEMENTS:
            out.personal.append(f"{_MG}PersonalIdentifiers")
            out.reasons.append(
                f"FHIR {element.ident}：记录的主体；{where_zh}，引用即标识该患者"
                f" / FHIR {element.ident} is the record's subject: {where_en}, the reference identifies"
                " this patient"
            )
    if context.about_patient and context.why_en:
        out.reasons.append(f"上下文：{context.why_zh} / context: {context.why_en}")
    return out
