"""Report building blocks: style, figures, tables, plain-language summaries and PDF pages."""
from .figures import (bar_with_ci, critical_difference_diagram, heatmap, paired_difference_plot,
                      robustness_curve, save_figure)
from .pdf import ReportBuilder
from .style import A4_LANDSCAPE, A4_PORTRAIT, FIGURE_SIZE, PALETTE, colors_for, report_style
from .summary import summarize_comparisons
from .tables import (SIGNIFICANCE_NOTE, comparison_table, format_mean_ci, format_number,
                     format_p, significance_mark, table_pages, to_csv, to_latex_booktabs)

__all__ = [
    "bar_with_ci", "critical_difference_diagram", "heatmap", "paired_difference_plot",
    "robustness_curve", "save_figure", "ReportBuilder", "A4_LANDSCAPE", "A4_PORTRAIT",
    "FIGURE_SIZE", "PALETTE", "colors_for", "report_style", "summarize_comparisons",
    "SIGNIFICANCE_NOTE", "comparison_table", "format_mean_ci", "format_number", "format_p",
    "significance_mark", "table_pages", "to_csv", "to_latex_booktabs",
]
