"""Helpers for writing tiny dataset files into tmp_path."""
from pathlib import Path


def write_tsv(path: Path, header: list[str] | None, rows: list[list[object]]) -> Path:
    lines = (["\t".join(header)] if header else []) + ["\t".join(str(v) for v in row) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


MMREC_ROWS = [[0, 0, 1, 0], [0, 1, 1, 0], [0, 2, 1, 1], [1, 1, 1, 0], [1, 3, 1, 2], [2, 0, 1, 0], [2, 3, 1, 2]]
