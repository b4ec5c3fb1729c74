"""Compile and run OwlApiCheck.java against Debian's OWL API (the one ../shared/tools/owl-check
installs), so tests can do what Protégé does: resolve imports by catalog, save RDF/XML."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JARS = Path("/usr/share/java")
_DEPS = [
    "guava",
    "caffeine",
    "commons-io",
    "commons-codec",
    "commons-rdf-api",
    "commons-rdf-simple",
    "jsonld-java",
    "httpclient",
    "httpclient-cache",
    "httpcore",
    "commons-logging",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "hppcrt",
    "xz",
    "atinject-jsr330-api",
    "jsr305",
    "slf4j-api",
    "slf4j-simple",
]
SOURCE = Path(__file__).with_name("OwlApiCheck.java")


def classpath() -> str | None:
    """The OWL API class path, or None when libowlapi-java is not installed."""
    main = JARS / "owlapi-distribution.jar"
    if not main.is_file():
        return None
    parts = [main, *(JARS / f"{d}.jar" for d in _DEPS)]
    parts += [p for p in sorted(JARS.glob("rdf4j-*.jar")) if not p.stem.split("-")[-1][:1].isdigit()]
    return ":".join(str(p) for p in parts if p.exists())


def compile_check(build: Path) -> tuple[str, Path] | None:
    """Compile OwlApiCheck into ``build``; None when javac or the OWL API is missing."""
    cp = classpath()
    if cp is None or shutil.which("javac") is None:
        return None
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["javac", "-nowarn", "-cp", cp, "-d", str(build), str(SOURCE)], check=True, capture_output=True, text=True
    )
    return cp, build


def run(cp_build: tuple[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    cp, build = cp_build
    return subprocess.run(
        ["java", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", f"{cp}:{build}", "OwlApiCheck", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
