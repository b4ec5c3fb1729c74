"""Where the files shipped with medgrade (ontology, shapes) are on this machine."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """The folder ``name`` ("ontology" or "shapes") shipped with medgrade.

    A wheel carries it inside the package (``kg/_bundled/NAME``); a source checkout or an
    editable install has it at the top of the repository.
    """
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    from kg.errors import OntologyError

    raise OntologyError(
        f"the '{name}' folder shipped with medgrade is missing (looked in {_PACKAGE}/_bundled "
        f"and {_PACKAGE.parent}); reinstall medgrade",
        f"medgrade 自带的 '{name}' 目录缺失（已查找 {_PACKAGE}/_bundled 和 {_PACKAGE.parent}），请重新安装",
    )
