"""Bad-input plumbing: exit status 2 with one line, atomic writes that leave nothing behind."""

import pytest

from data_prep.errors import InputError, atomic_path, atomic_write_text, run_cli


def test_run_cli_turns_input_errors_into_status_2(capsys):
    def main(argv):
        raise InputError("x.bin: wrong size")

    assert run_cli(main, []) == 2
    assert capsys.readouterr().err == "error: x.bin: wrong size\n"
    assert run_cli(lambda argv: None, []) == 0


def test_atomic_path_renames_on_success_and_cleans_up_on_failure(tmp_path):
    target = tmp_path / "sub" / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".csv" and tmp.parent == target.parent
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and list(target.parent.iterdir()) == []
    atomic_write_text(target, "done")
    assert target.read_text() == "done"
    with pytest.raises(InputError, match="use --force"):
        atomic_write_text(target, "again")
    atomic_write_text(target, "again", force=True)
    assert target.read_text() == "again"


def test_atomic_outputs_get_umask_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        out = atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644
