"""docs/deploy.md shows what scripts/cost_model.py prints for prod's tfvars: a change to the deployment's sizes, the
prices or the model changes the script's table, and this test asks for the page to say the same."""

from __future__ import annotations

import importlib.util
import re
import sys

from jobs.runtime.settings import REPO_ROOT


def test_the_deploy_page_shows_the_cost_model_s_current_output(capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("cost_model", REPO_ROOT / "scripts" / "cost_model.py")
    assert spec and spec.loader
    cost_model = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "cost_model", cost_model)  # its dataclass looks its module up there
    spec.loader.exec_module(cost_model)

    assert cost_model.main([]) == 0
    printed = capsys.readouterr().out.strip()
    page = (REPO_ROOT / "docs" / "deploy.md").read_text()
    shown = re.search(r"```\n(prod, 1,000,000,000 events a day.*?)\n```", page, re.S)
    assert shown, "docs/deploy.md has no cost table"
    assert shown.group(1) == printed
    # The figures the page's text quotes are the table's.
    totals = dict(re.findall(r"^(\w+) +([\d,.]+) \$ per billion events$", printed, re.M))
    for group in ("processing", "ingestion"):
        assert f"${float(totals[group]):.0f} per billion" in page, group
