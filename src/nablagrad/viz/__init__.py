"""Pictures (matplotlib, the ``viz`` extra): curves, decision boundaries, confusion matrices,
digits, first-layer weights, optimiser paths (lecture 003) and the computational graph."""

from .plots import (
    lecture_function,
    optimizer_paths,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_first_layer_weights,
    plot_graph,
    plot_history,
    plot_misclassified,
    plot_optimizer_paths,
    save_figure,
)
