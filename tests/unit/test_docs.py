"""The docs name what the code has."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "hakobune"


def test_the_module_map_lists_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text[text.index("## Where things live"):text.index("\n## ", text.index("## Where things live") + 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for module in sorted(PACKAGE.rglob("*.py")):
        relative = module.relative_to(PACKAGE)
        if module.name == "__init__.py" and not module.read_text().strip().count("\n"):
            continue  # an empty package marker
        folder = f"src/hakobune/{relative.parent}/" if relative.parent != Path() else "src/hakobune/"
        listed = any(f"`src/hakobune/{relative}`" in row or (folder in row and f"`{module.name}`" in row)
                     for row in rows)
        assert listed, f"docs/architecture.md's module map does not list {relative}"
