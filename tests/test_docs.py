"""The README quotes real output of the final code."""

from __future__ import annotations

import re

from .conftest import ROOT


def test_readme_compare_output_is_the_pinned_default_output():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- compare-output:begin[^>]*-->\n```text\n\$ uturn-sim compare\n(.*?)```", readme, re.S
    )
    assert block, "README compare block missing"
    golden = (ROOT / "tests" / "golden" / "compare_default.txt").read_text(encoding="utf-8")
    quoted = "\n".join(ln for ln in golden.splitlines() if not ln.startswith("wrote "))
    assert block.group(1).rstrip() == quoted.rstrip()


def test_readme_does_not_send_users_to_shared():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "DOMAIN.md" not in readme
    assert (ROOT / "docs" / "model.md").exists()
