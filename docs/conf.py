"""Sphinx configuration of the sklearn-l0 documentation.

Build (from the repository root; warnings are errors, the gallery is executed)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Add ``-D plot_gallery=0`` to skip running the examples while editing prose.
"""

import os
import re
import sys

import sklearn_l0

sys.path.insert(0, os.path.abspath("."))  # _gallery_order

project = "sklearn-l0"
author = "sklearn-l0 developers"
copyright = "sklearn-l0 developers"
version = release = sklearn_l0.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build", "README.md"]
templates_path = ["_templates"]

# ---------------------------------------------------------------------------- API reference
# One page per public name (docs/generated/), from the numpydoc docstrings; the class
# template lists the methods each class defines, not those inherited from scikit-learn.
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# ---------------------------------------------------------------------------- gallery
# examples/plot_*.py, executed at build time with their figures embedded (the quickstart
# script in examples/ is not part of it). No network access is needed.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|quickstart)\.py",
    "within_subsection_order": "_gallery_order.GalleryOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    # "Gallery examples using X" at the end of each API page.
    "doc_module": ("sklearn_l0",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_l0": None},
}

# ---------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-l0 {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": []}
html_show_sourcelink = False

# ---------------------------------------------------------------------------- docstrings
_LITERAL = re.compile(r"(``.*?``)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[,)])")


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    """Escape ``name_`` before "," or ")" outside literals, as in "shape (n_features_in_,)".

    In reST a word ending in an underscore is a link to a target of that name; the
    docstrings write fitted-attribute names such as ``n_features_in_`` in array shapes.
    """
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        parts = _LITERAL.split(line)
        parts[::2] = [_TRAILING_UNDERSCORE.sub(r"\\_", part) for part in parts[::2]]
        lines[i] = "".join(parts)


def _skip_member(app, what, name, obj, skip, options):
    """Document the methods sklearn-l0 defines, not those inherited from scikit-learn."""
    module = getattr(getattr(obj, "fget", obj), "__module__", None) or ""  # properties too
    if module == "sklearn" or module.startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    # Before numpydoc (priority 500) parses the sections.
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=400)
