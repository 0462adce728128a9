"""Paired per-user statistics: tests, effect sizes, multiple-testing correction, two-level
(seed x user) inference, ranking over datasets and power."""
from .compare import Comparison, compare, compare_family
from .corrections import CORRECTIONS, adjust_pvalues, correction_label, correction_name
from .effects import (cohen_label, cohens_dz, mean_difference_ci, rank_biserial,
                      relative_change_ci, win_tie_loss)
from .paired import (PAIRED_TESTS, TestResult, align_pairs, paired_permutation, paired_t,
                     paired_wilcoxon, run_test)
from .power import (MinimumDetectableEffect, minimum_detectable_difference,
                    minimum_detectable_effect)
from .ranking import (RankingResult, average_ranks, cliques_from_cd, cliques_from_pairwise,
                      friedman_test, nemenyi_cd, pairwise_wilcoxon, performance_matrix,
                      rank_configs)
from .seeds import (HierarchicalBootstrap, SeedLevelTest, TwoLevelComparison, grouped_mean_ci,
                    hierarchical_bootstrap, mean_t_ci, seed_level_ttest, seed_means,
                    two_level_compare)

__all__ = [
    "Comparison", "compare", "compare_family",
    "CORRECTIONS", "adjust_pvalues", "correction_label", "correction_name",
    "cohen_label", "cohens_dz", "mean_difference_ci", "rank_biserial", "relative_change_ci",
    "win_tie_loss",
    "PAIRED_TESTS", "TestResult", "align_pairs", "paired_permutation", "paired_t",
    "paired_wilcoxon", "run_test",
    "MinimumDetectableEffect", "minimum_detectable_difference", "minimum_detectable_effect",
    "RankingResult", "average_ranks", "cliques_from_cd", "cliques_from_pairwise",
    "friedman_test", "nemenyi_cd", "pairwise_wilcoxon", "performance_matrix", "rank_configs",
    "HierarchicalBootstrap", "SeedLevelTest", "TwoLevelComparison", "grouped_mean_ci",
    "hierarchical_bootstrap", "mean_t_ci", "seed_level_ttest", "seed_means",
    "two_level_compare",
]
