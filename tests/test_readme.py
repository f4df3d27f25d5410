"""The README's Python examples run as written (each block in its own file, since morphism reads
source; a block sees the names the blocks before it defined)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for k, code in enumerate(blocks):
        path = tmp_path / f"readme_block_{k}.py"
        path.write_text(code)
        namespace = runpy.run_path(str(path), init_globals=namespace, run_name=f"readme_block_{k}")
