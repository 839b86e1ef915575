"""Accessibility checks for every browser test (the website, the slides, PAIRS): axe-core in Playwright.

    from a11y import axe_violations, describe_violations
    assert not (found := axe_violations(page)), describe_violations(found)

axe-core comes from npm into build/axe/ (``make test`` installs it first, as ``make hub-test`` installs
configurable-http-proxy; ``axe_source()`` installs it when missing), so the tests run offline.
``axe_violations`` injects it with ``add_script_tag`` (a page with a Content-Security-Policy, such as
TensorBoard's plugin frame, needs a browser context made with ``bypass_csp=True``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE_PACKAGE = "axe-core@4"
AXE_DIR = ROOT / "build" / "axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.0 and 2.1, levels A and AA: what the course promises (docs/accessibility.md).
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_source() -> str:
    """axe.min.js, installed from npm into build/axe/ if it is not there yet (skip without npm;
    in CI, where ``make test`` installs it first, fail)."""
    if not AXE.exists():
        if shutil.which("npm") is None:
            message = f"axe-core needs npm: npm install --prefix build/axe {AXE_PACKAGE}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        subprocess.run(["npm", "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", AXE_PACKAGE],
                       check=True, capture_output=True)
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, context: str | None = None, tags=TAGS) -> list[dict]:
    """axe-core's violations of ``tags`` on ``page`` (or inside the CSS selector ``context``):
    ``[{"id", "impact", "help", "nodes": [{"target", "html", "summary"}]}]``; empty when it passes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    found = page.evaluate(
        """async ([context, tags]) => (await axe.run(context || document,
               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})).violations""",
        [context, list(tags)])
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [{"target": n["target"], "html": n["html"][:160], "summary": n.get("failureSummary", "")}
                       for n in v["nodes"]]} for v in found]


def describe_violations(violations: list[dict], limit: int = 5) -> str:
    """A readable report: rule, impact, how many elements, and the first few of them."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
        for node in v["nodes"][:limit]:
            lines.append(f"    {node['target']}: {node['html']}\n      {node['summary'].splitlines()[-1:]}")
    return "\n".join(lines)
