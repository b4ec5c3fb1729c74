"""Compile and run ShaclCompare.java against Debian's Jena jars (installed by ../shared/tools/jena)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JARS = Path("/usr/share/java")
_JARS = [
    "jena-arq",
    "jena-base",
    "jena-cmds",
    "jena-core",
    "jena-dboe-base",
    "jena-dboe-index",
    "jena-dboe-storage",
    "jena-dboe-trans-data",
    "jena-dboe-transaction",
    "jena-iri",
    "jena-rdfconnection",
    "jena-shacl",
    "jena-shex",
    "jena-tdb",
    "jena-tdb2",
    "commons-cli",
    "commons-codec",
    "commons-compress",
    "commons-csv",
    "commons-io",
    "commons-lang3",
    "dexx.collection",
    "gson",
    "guava",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "jsonld-java",
    "httpclient",
    "httpcore",
    "httpclient-cache",
    "commons-logging",
    "jakarta.json-api",
    "titanium-json-ld",
    "protobuf",
    "thrift",
    "slf4j-api",
    "slf4j-simple",
]
SOURCE = Path(__file__).with_name("ShaclCompare.java")


def classpath() -> str | None:
    if not (JARS / "jena-shacl.jar").is_file():
        return None
    parts = [JARS / f"{j}.jar" for j in _JARS]
    cache = Path.home() / ".cache" / "jena-fix" / "jena-xerces-resources-fix.jar"  # made by tools/jena
    if cache.is_file():
        parts.append(cache)
    return ":".join(str(p) for p in parts if p.exists())


def compile_compare(build: Path) -> tuple[str, Path] | None:
    cp = classpath()
    if cp is None or shutil.which("javac") is None:
        return None
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run(["javac", "-nowarn", "-cp", cp, "-d", str(build), str(SOURCE)], check=True, capture_output=True)
    return cp, build


def compare(
    built: tuple[str, Path], shapes: Path, data: list[Path]
) -> dict[str, tuple[bool, set[tuple[str, str, str]]]]:
    """file name -> (conforms, {(focus, source shape, severity)})."""
    cp, build = built
    proc = subprocess.run(
        [
            "java",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            f"{cp}:{build}",
            "ShaclCompare",
            str(shapes),
            *map(str, data),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    out: dict[str, tuple[bool, set[tuple[str, str, str]]]] = {}
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if parts[1] == "conforms":
            out[parts[0]] = (parts[2] == "true", set())
        elif parts[1] == "result":
            out[parts[0]][1].add((parts[2], parts[3], parts[4]))
    return out
