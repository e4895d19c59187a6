"""The bureau report, rendered in headless Chromium in both languages."""

import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

import uturn_sim as us
from uturn_sim.reports.bureau import report

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLES = (
    "table-fields",
    "table-comparison-uturn",
    "table-ladder",
    "table-los",
    "table-queue",
    "table-sensitivity",
    "table-design",
    "table-design-choice",
    "table-validation",
    "table-provenance",
)
FIGURES = ("fig-comparison", "fig-ladder", "fig-queue", "fig-tornado", "fig-design")
HEADINGS = {
    "en": ("Scheme comparison", "Design recommendation", "Provenance", "Level of service"),
    "zh": ("方案比较", "设计建议", "数据来源与可复现性", "服务水平"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    grading = d / "local.csv"
    grading.write_text(
        "grade,max_control_delay_s\n一级,20\n二级,40\n三级,60\n四级,\n", encoding="utf-8"
    )
    from uturn_sim.measures.grading import load_grading

    scn = ROOT / "scenarios" / "liuyuan_longshan.yaml"
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an untranslated word is an error
        for lang in ("en", "zh"):
            out[lang] = report(
                scn,
                out=d / f"report_{lang}.html",
                lang=lang,
                replications=4,
                grading=load_grading(grading),
                sensitivity_replications=2,
            )
    return out


def _chromium(args, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_chromium(reports, lang, tmp_path):
    path = reports[lang]
    page = path.read_text(encoding="utf-8")
    assert 'src="http' not in page and "<link " not in page  # self-contained
    dom = _chromium(["--dump-dom", path.as_uri()], tmp_path).stdout
    for t in TABLES:
        assert f'id="{t}"' in dom, t
    for f in FIGURES:
        assert f'id="{f}"' in dom and "data:image/png;base64," in dom, f
    for h in HEADINGS[lang]:
        assert h in dom, h
    assert "一级" in dom and 'id="local-grading"' in dom  # the user's grading table is used
    assert 'id="recommendation"' in dom
    if lang == "zh":
        assert "@font-face" in dom and "ReportCJK" in dom  # CJK font embedded
        assert "Scheme comparison" not in dom
    shot = tmp_path / f"report_{lang}.png"
    _chromium([f"--screenshot={shot}", "--window-size=1200,1800", path.as_uri()], tmp_path)
    from PIL import Image

    im = Image.open(shot).convert("L")
    assert im.size == (1200, 1800)
    hist = im.histogram()
    dark = sum(hist[:128]) / sum(hist)
    assert dark > 0.005  # text and tables were drawn, not a blank page


def test_report_records_provenance_and_field_basis(reports):
    page = reports["en"].read_text(encoding="utf-8")
    scn = us.load_scenario(ROOT / "scenarios" / "liuyuan_longshan.yaml")
    from uturn_sim.provenance import package_version, resolve_run, scenario_hash

    assert scenario_hash(resolve_run(scn, replications=4)) in page
    assert package_version() in page
    # storage is marked assumed in the file's comment, the HCM critical gap sourced
    assert "<td>geometry.storage_m</td><td>60.00</td><td>assumed</td>" in page
    assert "<td>behaviour.critical_gap.mean_s</td><td>6.40</td><td>sourced</td>" in page


def test_report_cli_bad_lang_and_missing_file(tmp_path, capsys):
    from uturn_sim.cli import main

    with pytest.raises(SystemExit):
        main(["report", "--lang", "fr"])
    assert main(["report", str(tmp_path / "nope.yaml")]) == 2
    assert "no scenario file" in capsys.readouterr().err
