"""Order of the gallery: from feature selection in linear models to pruning networks."""

ORDER = [
    "plot_support_recovery.py",
    "plot_regularization_path.py",
    "plot_groups.py",
    "plot_stability_selection.py",
    "plot_survival.py",
    "plot_gate_probabilities.py",
    "plot_streaming.py",
    "plot_digits_mlp_selection.py",
    "plot_network_path.py",
    "plot_structured_pruning.py",
    "plot_l0_cnn_digits.py",
    "plot_skorch.py",
]


class GalleryOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``: ORDER, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        rank = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return (rank, filename)

    def __repr__(self):
        return "GalleryOrder"
