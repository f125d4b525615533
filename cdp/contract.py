"""The raw data contract: the tables and typed columns each source must provide.

It is read from the dbt sources files (`models/staging/<source>/_<source>__sources.yml`), so
the documentation analytics engineers read, the tables the generator creates and the
columns staging selects can never drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from cdp.warehouse import PROJECT_DIR, ConfigError

_VAR = re.compile(r"""^\{\{\s*var\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)\s*\}\}$""")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str


@dataclass(frozen=True)
class RawTable:
    source: str
    name: str
    schema: str
    identifier: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def create_sql(self) -> str:
        cols = ",\n  ".join(f'"{c.name}" {c.data_type}' for c in self.columns)
        return f'create table "{self.schema}"."{self.identifier}" (\n  {cols}\n)'


def project_vars(project_dir: Path = PROJECT_DIR) -> dict:
    path = project_dir / "dbt_project.yml"
    with path.open() as fh:
        return dict(yaml.safe_load(fh).get("vars") or {})


def _render(value: str, variables: dict, where: str) -> str:
    match = _VAR.match(value.strip())
    if not match:
        return value
    name = match.group(1)
    if name not in variables:
        raise ConfigError(f"{where}: var {name!r} is not defined in dbt_project.yml vars")
    return str(variables[name])


def load_contract(project_dir: Path = PROJECT_DIR) -> dict[str, dict[str, RawTable]]:
    """Return {source name: {table name: RawTable}} for every source file in staging."""
    variables = project_vars(project_dir)
    contract: dict[str, dict[str, RawTable]] = {}
    for path in sorted((project_dir / "models" / "staging").glob("*/_*__sources.yml")):
        with path.open() as fh:
            doc = yaml.safe_load(fh) or {}
        for source in doc.get("sources", []):
            where = f"{path.relative_to(project_dir)}: source {source['name']}"
            schema = _render(source["schema"], variables, where)
            tables: dict[str, RawTable] = {}
            for table in source.get("tables", []):
                columns = []
                for col in table.get("columns", []):
                    if "data_type" not in col:
                        raise ConfigError(f"{where}.{table['name']}: column {col['name']!r} has no data_type")
                    columns.append(Column(col["name"], str(col["data_type"])))
                identifier = _render(table.get("identifier", table["name"]), variables, where)
                tables[table["name"]] = RawTable(source["name"], table["name"], schema, identifier, tuple(columns))
            contract[source["name"]] = tables
    return contract
