"""Sphinx configuration of the sklearn-l0 documentation.

Build (from the repository root, warnings are errors, the gallery is executed)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import re
import sys
import warnings

import sklearn_l0

sys.path.insert(0, os.path.abspath("."))

project = "sklearn-l0"
author = "sklearn-l0 developers"
copyright = "sklearn-l0 developers"  # noqa: A001 - Sphinx's name
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

# API reference: one page per public name, generated from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
_LITERAL = re.compile(r"(``.*?``)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[,)])")


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    """Escape ``name_`` before "," or ")" outside literals: "shape (n_features_in_,)".

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
    """Hide scikit-learn's generated metadata-routing setters (set_fit_request, ...)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    # Before numpydoc (priority 500) parses the sections.
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=400)


# Gallery: examples/plot_*.py, executed, with their figures embedded (the quickstart
# script in examples/ is not part of it).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|quickstart)\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "_gallery_order.GalleryOrder",
    "plot_gallery": "True",
    "matplotlib_animations": False,
    # "Gallery examples using X" at the end of each API page.
    "doc_module": ("sklearn_l0",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_l0": None},
}

# The gallery runs on CPUs: no GPU is needed to build the docs.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-l0 {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": []}
html_static_path = []
html_show_sourcelink = False
