"""The README's Python snippets run as written, and raise no warning."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_its_snippets():
    assert len(SNIPPETS) >= 4


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs_without_warnings(index):
    code = SNIPPETS[index]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, f"README.md snippet {index}", "exec"), {"__name__": "readme"})
