"""Read the ontology from its files as Protégé does: umbrella, owl:imports, XML catalog.

The folder holds ``catalog-v001.xml`` (Protégé's catalog, mapping each ontology IRI to a file)
and the module files it names. Loading starts at the umbrella ontology and follows
``owl:imports`` through the catalog only, so nothing is ever fetched from the network.
Files may be Turtle (as shipped) or RDF/XML (Protégé's default save format).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from kg import MG, ONTOLOGY_IRI
from kg.errors import OntologyError, Problem

CATALOG = "catalog-v001.xml"
_CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"
_FORMATS = {
    ".ttl": "turtle",
    ".owl": "xml",
    ".rdf": "xml",
    ".xml": "xml",
    ".nt": "nt",
    ".jsonld": "json-ld",
}


@dataclass
class OntologyFiles:
    """The parsed modules of one ontology folder, in import order."""

    directory: Path
    modules: dict[str, Graph] = field(default_factory=dict)  # ontology IRI -> its triples
    files: dict[str, Path] = field(default_factory=dict)  # ontology IRI -> its file

    def merged(self) -> Graph:
        """All modules in one graph (the imports closure of the umbrella)."""
        g = Graph()
        g.bind("mg", MG)
        for module in self.modules.values():
            g += module
            for prefix, ns in module.namespaces():
                g.bind(prefix, ns, override=False)
        return g

    def file_of(self, subject: URIRef) -> str:
        """The file that defines ``subject`` (types it), for error messages."""
        for iri, graph in self.modules.items():
            if (subject, RDF.type, None) in graph and not _is_stub(graph, subject):
                return self.files[iri].name
        return "?"


def _is_stub(graph: Graph, subject: URIRef) -> bool:
    """A stub declaration: a bare ``a owl:X`` repeated from another module."""
    return all(p == RDF.type for p in graph.predicates(subject, None))


def read_catalog(directory: Path) -> dict[str, Path]:
    """Map each ontology IRI in the folder's ``catalog-v001.xml`` to its file."""
    path = directory / CATALOG
    if not path.is_file():
        raise OntologyError(
            f"{path} is missing: the ontology folder needs Protégé's catalog to resolve imports",
            f"缺少 {path}：本体目录需要 Protégé 目录文件来解析导入",
        )
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise OntologyError(f"{path}: not well-formed XML ({exc})", f"{path}：XML 格式错误（{exc}）") from exc
    mapping: dict[str, Path] = {}
    for entry in root.iter(f"{_CATALOG_NS}uri"):
        name, uri = entry.get("name"), entry.get("uri")
        if name and uri:
            mapping[name] = (directory / uri).resolve()
    return mapping


def parse_file(path: Path) -> Graph:
    """Parse one ontology file, choosing the format from its extension."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OntologyError(
            f"{path.name}: unknown ontology file type '{path.suffix}' (use .ttl or .owl)",
            f"{path.name}：无法识别的本体文件类型“{path.suffix}”（请使用 .ttl 或 .owl）",
        )
    g = Graph()
    try:
        g.parse(path, format=fmt)
    except FileNotFoundError as exc:
        raise OntologyError(
            f"{path}: file named in {CATALOG} does not exist",
            f"{path}：{CATALOG} 中列出的文件不存在",
        ) from exc
    except Exception as exc:  # rdflib raises many parser-specific types; all mean "bad syntax"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OntologyError(
            f"{path.name}: cannot parse as {fmt}: {detail}",
            f"{path.name}：无法按 {fmt} 格式解析：{detail}",
        ) from exc
    return g


def load_files(directory: Path, root_iri: str = ONTOLOGY_IRI) -> OntologyFiles:
    """Load the umbrella ontology ``root_iri`` from ``directory`` with its imports closure."""
    directory = Path(directory)
    if not directory.is_dir():
        raise OntologyError(f"ontology folder {directory} does not exist", f"本体目录 {directory} 不存在")
    catalog = read_catalog(directory)
    result = OntologyFiles(directory=directory)
    pending: list[tuple[str, str]] = [(root_iri, CATALOG)]
    problems: list[Problem] = []
    while pending:
        iri, importer = pending.pop(0)
        if iri in result.modules:
            continue
        path = catalog.get(iri)
        if path is None:
            problems.append(
                Problem(
                    f"imports <{iri}>, which {CATALOG} does not map to a file",
                    f"导入了 <{iri}>，但 {CATALOG} 未将其映射到文件",
                    where=importer,
                )
            )
            continue
        graph = parse_file(path)
        declared = set(graph.subjects(RDF.type, OWL.Ontology))
        if URIRef(iri) not in declared:
            found = ", ".join(sorted(f"<{d}>" for d in declared if isinstance(d, URIRef)))
            problems.append(
                Problem(
                    f"{CATALOG} maps <{iri}> here, but the file declares {found or 'no ontology'}",
                    f"{CATALOG} 将 <{iri}> 映射到此文件，但文件声明的本体是 {found or '（无）'}",
                    where=path.name,
                )
            )
        result.modules[iri] = graph
        result.files[iri] = path
        for imported in graph.objects(URIRef(iri), OWL.imports):
            pending.append((str(imported), path.name))
    if problems:
        raise OntologyError(
            f"the ontology in {directory} has unresolved imports",
            f"{directory} 中的本体存在无法解析的导入",
            problems=problems,
        )
    return result
