"""Copy bench/RESULTS.md into the README's "## Benchmarks" section (from its "Written by `make
bench`" line to the next "## " heading; the paragraphs above it stay). Run after `make bench`:
`python scripts/readme_bench.py`."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    readme = (ROOT / "README.md").read_text()
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    body = results.split("\n", 1)[1].strip().replace("\n## ", "\n### ")        # drop the title
    intro_end = readme.index("Written by `make bench`", readme.index("## Benchmarks\n"))
    end = readme.index("\n## ", intro_end) + 1
    (ROOT / "README.md").write_text(readme[:intro_end] + body + "\n\n" + readme[end:])


if __name__ == "__main__":
    main()
