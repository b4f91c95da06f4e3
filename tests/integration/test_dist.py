"""make dist: the relocatable tarball for Amazon Linux 2023 / MWAA.
scripts/dist builds it (build-dist/) and runs scripts/dist-check on an
unpacked copy: rpath, ldd (nothing from outside but glibc and the GCC
runtime), GLIBC <= 2.34 by readelf, `floe demo` with LD_LIBRARY_PATH
unset and every loaded library watched. Marked `dist` (it builds floe
again): `make test-dist` or `pytest -m dist`."""
import subprocess
import tarfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.dist


def test_dist_tarball_runs_the_demo_from_an_unpacked_copy(tmp_path):
    r = subprocess.run([str(ROOT / "scripts" / "dist"), "--out",
                        str(tmp_path)], capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stderr[-4000:]
    tarball = r.stdout.strip().splitlines()[-1]
    assert tarball.endswith("-linux-x86_64.tar.gz")
    assert "floe demo ran from the copy" in r.stderr
    with tarfile.open(tarball) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for want in ("bin/floe", "lib/libduckdb.so", "lib/libcurl.so.4",
                 "airflow/dags/floe_pipeline.py", "airflow/README.md",
                 "airflow/startup.sh", "config/floe.yaml"):
        assert want in names, want
    assert not [n for n in names if "libc.so" in n or "libstdc++" in n]

    # the check fails when the copy lacks a library it needs
    work = tmp_path / "broken"
    with tarfile.open(tarball) as t:
        t.extractall(work)
    [top] = list(work.iterdir())
    (top / "lib" / "libduckdb.so").unlink()
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as t:
        t.add(top, arcname=top.name)
    r = subprocess.run([str(ROOT / "scripts" / "dist-check"), str(broken)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and "libduckdb.so" in r.stderr, r.stderr
