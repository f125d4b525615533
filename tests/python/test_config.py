"""Configuration: the profile and the Python side agree, and bad settings are named."""

from __future__ import annotations

import re

import pytest
import yaml

from cdp.contract import load_contract, project_vars
from cdp.warehouse import DEFAULTS, PROJECT_DIR, ConfigError, resolve_target


def test_profiles_defaults_match_the_python_defaults():
    text = (PROJECT_DIR / "profiles.yml").read_text()
    found = dict(re.findall(r"env_var\('([A-Z_]+)',\s*'([^']*)'\)", text))
    assert found, "profiles.yml reads no environment variables"
    for name, default in found.items():
        if name == "CDP_THREADS":
            continue
        assert DEFAULTS[name] == default, name


def test_profiles_hold_no_secret():
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    pg = profiles["cdp"]["outputs"]["pg"]
    assert pg["password"].startswith("{{ env_var(")


def test_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDP_PG_PORT", "fifty")
    with pytest.raises(ConfigError, match="CDP_PG_PORT='fifty'"):
        resolve_target("pg")


def test_unknown_target_is_named():
    with pytest.raises(ConfigError, match="'prod'"):
        resolve_target("prod")


def test_contract_columns_are_typed_and_described():
    contract = load_contract()
    assert set(contract) == {"segment", "email", "ads", "pos", "crm", "support", "shop", "consent"}
    for path in sorted((PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                assert table.get("description"), f"{path}: {table['name']} has no description"
                for column in table["columns"]:
                    assert column.get("description"), f"{path}: {table['name']}.{column['name']}"
                    assert column.get("data_type"), f"{path}: {table['name']}.{column['name']}"


def test_every_source_has_a_switch_and_a_schema_variable():
    variables = project_vars()
    for source in load_contract():
        assert variables[f"{source}_enabled"] is True
        assert f"{source}_schema" in variables
