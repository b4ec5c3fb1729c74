"""Identifiers: validated local ids and the IRIs minted from them.

Every IRI medgrade mints for the hospital's data is deterministic, so importing the same file
twice names the same things. Parts of an asset (elements, the activity that made it, its approval,
its transfers) live under the asset's IRI.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote

from rdflib import URIRef

from kg.errors import InputError

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")


def check_id(text: str) -> str:
    """A URL-safe local id, or :class:`InputError`."""
    value = text.strip()
    if not ID_PATTERN.match(value):
        raise InputError(
            f"'{text}' is not a valid id: use 1–128 letters, digits, '.', '_', '~' or '-', starting with a letter or digit",
            f"“{text}”不是有效标识：应为 1–128 个字母、数字或 . _ ~ -，并以字母或数字开头",
        )
    return value


@dataclass(frozen=True, slots=True)
class Ids:
    """Mints IRIs under ``base`` (e.g. ``https://hospital.example/id/``)."""

    base: str

    def _under(self, kind: str, local: str) -> URIRef:
        return URIRef(f"{self.base}{kind}/{local}")

    def asset(self, asset_id: str) -> URIRef:
        return self._under("asset", asset_id)

    def device(self, device_id: str) -> URIRef:
        return self._under("device", device_id)

    def destination(self, dest_id: str) -> URIRef:
        return self._under("destination", dest_id)

    def element(self, asset_id: str, name: str) -> URIRef:
        return URIRef(f"{self.asset(asset_id)}/element/{quote(name.strip(), safe='')}")

    def activity(self, asset_id: str) -> URIRef:
        return URIRef(f"{self.asset(asset_id)}/activity")

    def approval(self, asset_id: str) -> URIRef:
        return URIRef(f"{self.asset(asset_id)}/approval")

    def derivation(self, target: str, activity: str | None, source: str) -> URIRef:
        """The qualified derivation of ``target`` from ``source`` by ``activity`` (one per run and
        pair, so an approval of one never covers another run's derivation of the same pair)."""
        key = hashlib.sha1(f"{activity or ''} {source}".encode()).hexdigest()[:16]
        return URIRef(f"{target}/derivation/{key}")

    def transfer(self, asset_id: str, dest_id: str) -> URIRef:
        return URIRef(f"{self.asset(asset_id)}/transfer/{dest_id}")

    def record(self) -> URIRef:
        return self._under("record", uuid.uuid4().hex)

    def new_transfer_record(self) -> URIRef:
        """A new transfer record (数据提供记录): not under its asset, so re-importing the asset
        never removes the records of what was provided."""
        return self._under("transfer-record", uuid.uuid4().hex[:16])

    def transfer_record_of(self, record_id: str) -> URIRef:
        return self._under("transfer-record", record_id)

    def local_id(self, iri: str, kind: str = "asset") -> str | None:
        """The id of an IRI minted here as ``kind`` (asset, device, destination), else None."""
        prefix = f"{self.base}{kind}/"
        if iri.startswith(prefix) and "/" not in iri[len(prefix) :]:
            return iri[len(prefix) :]
        return None

    def owner(self, iri: str) -> str | None:
        """The id of the asset an IRI minted here is, or belongs to as a part (element, activity,
        approval, derivation, transfer, impact: ``<base>asset/ID/...``); None for anything else.
        The one answer to "which asset does this part belong to"."""
        prefix = f"{self.base}asset/"
        return iri[len(prefix) :].split("/", 1)[0] or None if iri.startswith(prefix) else None

    def element_name(self, iri: str) -> str:
        return unquote(iri.rsplit("/element/", 1)[-1])

    def resolve_asset(self, ref: str) -> URIRef:
        """An asset given by its id or by its full IRI."""
        text = ref.strip()
        if text.startswith(("http://", "https://", "urn:")):
            return URIRef(text)
        return self.asset(check_id(text))
