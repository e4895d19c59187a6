"""numba's cached kernels are dropped when any source compiled into them changes."""

from __future__ import annotations

from pathlib import Path

from uturn_sim import numba_cache as nc


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    for rel in ("fast/kernel.py", "fast/approach.py", "traffic/pcg.py", "model/approach.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"# {rel}\n")
    (root / "cli.py").write_text("# not compiled\n")
    return root


def test_digest_follows_every_compiled_source_and_nothing_else(tmp_path):
    root = _tree(tmp_path)
    d0 = nc.sources_digest(root)
    (root / "cli.py").write_text("# edited\n")
    assert nc.sources_digest(root) == d0
    for rel in ("fast/approach.py", "traffic/pcg.py", "model/approach.py"):
        (root / rel).write_text("# edited\n")
        d1 = nc.sources_digest(root)
        assert d1 != d0, rel
        d0 = d1


def test_stale_cache_files_are_deleted_and_the_directory_stamped(tmp_path):
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    ours = [cache / "kernel.run_batch-265.py311.nbi", cache / "kernel.run_batch-265.py311.1.nbc"]
    other = cache / "elsewhere.f-1.py311.nbi"  # another module's kernel: left alone
    for f in (*ours, other):
        f.write_bytes(b"x")
    gone = nc.purge_stale({str(cache): {"kernel"}}, "digest-1")
    assert sorted(gone) == sorted(ours) and other.exists()
    assert (cache / nc.STAMP).read_text() == "digest-1"
    # stamped with the same digest: new cache files are kept
    ours[0].write_bytes(b"y")
    assert nc.purge_stale({str(cache): {"kernel"}}, "digest-1") == [] and ours[0].exists()
    # the sources changed: they go again
    assert nc.purge_stale({str(cache): {"kernel"}}, "digest-2") == [ours[0]]


def test_every_cached_kernel_module_is_listed_and_its_directory_stamped():
    """Every module of the package with ``njit(cache=True)`` is in COMPILED_MODULES, and
    after ensure_fresh each cache directory carries the current sources' digest."""
    root = Path(nc.__file__).parent
    found = {
        "uturn_sim." + p.relative_to(root).with_suffix("").as_posix().replace("/", ".")
        for p in root.rglob("*.py")
        if "@njit(cache=True" in p.read_text()
    }
    assert found == set(nc.COMPILED_MODULES)
    nc.ensure_fresh()
    dirs = nc._cache_dirs()
    assert dirs
    for d in dirs:
        stamp = Path(d) / nc.STAMP
        assert not stamp.exists() or stamp.read_text() == nc.sources_digest()
