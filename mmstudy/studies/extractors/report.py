"""The extractor study's report pages (numbers come from `.analysis`)."""
from __future__ import annotations


import pandas as pd

from ...report.audit import AuditCheck
from ...report.figures import bar_with_ci, heatmap, paired_difference_plot
from ...report.summary import claim_count, summarize_comparisons, training_settings
from ...report.tables import comparison_table, format_mean_ci, format_number
from ...report.study_report import declared_defaults
from ...report.writer import StudyReport, slug
from ...study.results import StudyResults
from ...study.spec import AnalysisConfig
from .analysis import combination_label

TITLES = {
    "accuracy": ("Accuracy and beyond-accuracy per extractor combination: mean [95% CI] over seeds",
                 "role: full = every modality, ablation = one modality alone, cf = the CF counterpart. "
                 "Beyond-accuracy at the main cutoff: Coverage, GiniDiversity (higher = more diverse), APLT "
                 "(long-tail share), EFD (novelty)."),
    "vs_reference": ("Each extractor combination vs the reference combination (paired per user)",
                     "Difference = combination minus the reference combination (see the protocol on page 1); "
                     "per-user metric averaged over matched seeds; one corrected family per metric."),
    "ablations": ("Single-modality ablations: one modality alone vs the full combination", ""),
    "vs_cf": ("Each extractor combination vs the CF counterpart (multimodal gain)",
              "Exploratory family: Benjamini-Hochberg correction."),
    "extraction": ("Extraction cost and feature dimension per extractor",
                   "Timings are those of the first extraction (later runs load the feature store); "
                   "ms/item excludes model loading; precomputed features cost nothing here."),
    "homophily": ("Feature homophily of each extractor on the training co-interaction graph",
                  "Mean per-dimension assortativity of the features over co-interaction edges (present items "
                  "only): higher = co-interacted items have more similar features."),
    "cka": ("Linear CKA between extractors' feature spaces (long form)",
            "Computed at study time on the items present in every feature set (features.json)."),
    "design_checks": ("Design checks: only the extractor factors vary", ""),
}
COMPARISONS = ("vs_reference", "ablations", "vs_cf")


def pages(rep: StudyReport, results: StudyResults, tables: dict[str, pd.DataFrame]) -> None:
    """Accuracy and paired-difference figures, the CKA heatmaps, and every analysis table."""
    _accuracy_pages(rep, tables, results.analysis)
    _similarity_pages(rep, tables)
    for name, (title, note) in TITLES.items():
        rep.table(name, tables[name], title, shown_table(name, tables[name]), note=note)


def design_checks(results: StudyResults, tables: dict[str, pd.DataFrame]) -> list[AuditCheck]:
    """The design checks (only the extractor factors vary), shown beside the audit on page 1."""
    return [AuditCheck(r.check, bool(r.passed), r.evidence) for r in tables["design_checks"].itertuples()]


def _accuracy_pages(rep: StudyReport, tables: dict, cfg: AnalysisConfig) -> None:
    acc = tables["accuracy"]
    if acc.empty:
        return
    main = acc[acc["metric"] == cfg.metric]
    rep.figure("accuracy", bar_with_ci(main, x="combination", y="mean", low="ci_low", high="ci_high", hue="model",
                                       title=cfg.metric, xlabel="extractor combination", ylabel=cfg.metric),
               caption=f"Mean {cfg.metric} over {int(main['n_seeds'].max())} seeds; bars = 95% CI of the seed means.")
    comparisons = tables["vs_reference"]
    if comparisons.empty:
        return
    tested = comparisons[comparisons["metric"] == cfg.metric]
    for model, part in tested.groupby("model", sort=True):
        rep.figure(f"differences_{slug(model)}", paired_difference_plot(
            part, label="combination", title=f"{model}: each combination minus the reference",
            xlabel=f"Δ {cfg.metric} (paired per user, mean over seeds)"),
            caption=f"Reference: {part['reference'].iloc[0]}. Filled markers: significant under the claim rule (two-level test over users and seeds) after "
                    f"{part['correction_label'].iloc[0]} correction over the "
                    f"{len(tested)} comparisons on {cfg.metric} (alpha {cfg.alpha}).")


def _similarity_pages(rep: StudyReport, tables: dict) -> None:
    cka, homophily = tables["cka"], tables["homophily"]
    for modality, part in cka.groupby("modality", sort=False) if not cka.empty else []:
        names = list(dict.fromkeys(part["extractor_a"]))
        if len(names) < 2:
            continue
        matrix = part.pivot(index="extractor_a", columns="extractor_b", values="cka").loc[names, names]
        matrix.index.name = matrix.columns.name = None
        h = homophily[homophily["modality"] == modality].set_index("extractor")["homophily"]
        rep.figure(f"cka_{slug(modality)}", heatmap(
            matrix, title=f"{modality}: linear CKA between extractors", fmt=".2f", cbar_label="linear CKA"),
            caption=f"Linear CKA on the {int(part['n_items'].iloc[0])} items with every {modality} feature set "
                    "(1 = the same geometry up to rotation and scale). Homophily on the training co-interaction "
                    "graph: " + "; ".join(f"{n} {format_number(v, 3)}" for n, v in h.items()) + ".")


def shown_table(name: str, table: pd.DataFrame) -> pd.DataFrame | None:
    """The readable form of an analysis table (None: shown as is)."""
    if table.empty:
        return None
    if name in COMPARISONS:
        shown = comparison_table(table)
        if name == "vs_reference":  # one reference for every row: named in the title note
            many = table["model"].nunique() > 1
            shown["Comparison"] = (table["model"] + ": " if many else "") + table["combination"]
        if "metric" in table and table["metric"].nunique() > 1:
            shown.insert(1, "Metric", table["metric"].to_numpy())
        return shown
    if name == "accuracy":
        text = table.assign(value=[format_mean_ci(r.mean, r.ci_low, r.ci_high) for r in table.itertuples()])
        keys = ["model", "role", "combination"]
        wide = text.pivot(index=keys, columns="metric", values="value")
        rows = pd.MultiIndex.from_frame(text[keys].drop_duplicates())  # the analysis' row order
        return wide.loc[rows, list(dict.fromkeys(table["metric"]))].reset_index()
    if name == "extraction":
        shown = table.drop(columns=["spec", "backend"]).copy()
        shown["ms/item"] = (1000 * shown.pop("seconds_per_item").astype(float)).map(lambda v: format_number(v, 1))
        shown["weights_sha256"] = shown["weights_sha256"].map(lambda v: str(v)[:12] if isinstance(v, str) else "–")
        return shown
    if name == "cka":
        return table[table["extractor_a"] < table["extractor_b"]].assign(cka=lambda t: t["cka"].map(
            lambda v: format_number(v, 3)))
    return None


def summary(results: StudyResults, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Best combination per model, significant differences, feature-space similarity and cost."""
    cfg, out = results.analysis, []
    acc = tables["accuracy"]
    main = acc[(acc["metric"] == cfg.metric) & (acc["role"] == "full")] if not acc.empty else acc
    for model, part in main.groupby("model", sort=True):
        order = part.sort_values("mean", ascending=False, kind="stable")
        out.append(f"{model}: best extractor combination on {cfg.metric} is {order['combination'].iloc[0]} "
                   f"({format_mean_ci(*order[['mean', 'ci_low', 'ci_high']].iloc[0])}); ranking: "
                   + " > ".join(f"{r.combination} ({r.mean:.4f})" for r in order.itertuples()) + ".")
    for name, what in (("vs_reference", "combination-vs-reference"), ("ablations", "single-modality ablation"),
                       ("vs_cf", "multimodal-vs-CF")):
        table = tables[name]
        if table.empty:
            continue
        part = table[table["metric"] == cfg.metric]
        out.append(claim_count(part, f"{what} differences"))
        out += summarize_comparisons(part.assign(condition=""), collapse_nonsignificant=True)
    return out + _similarity_sentences(tables["cka"], tables["extraction"])


def _similarity_sentences(cka: pd.DataFrame, extraction: pd.DataFrame) -> list[str]:
    out = []
    pairs = cka[cka["extractor_a"] < cka["extractor_b"]] if not cka.empty else cka
    for modality, part in pairs.groupby("modality", sort=False):
        ranked = part.dropna(subset=["cka"]).sort_values("cka", kind="stable")
        if not ranked.empty:
            low, high = ranked.iloc[0], ranked.iloc[-1]
            out.append(f"{modality} feature spaces: most similar {high.extractor_a} / {high.extractor_b} "
                       f"(CKA {high.cka:.2f}), least similar {low.extractor_a} / {low.extractor_b} "
                       f"(CKA {low.cka:.2f}).")
    timed = extraction.dropna(subset=["seconds_per_item"]) if not extraction.empty else extraction
    if not timed.empty:
        out.append("Extraction cost: " + "; ".join(
            f"{r.modality}:{r.extractor} {1000 * r.seconds_per_item:.1f} ms/item ({r.dim}-d, {r.device})"
            for r in timed.itertuples()) + ".")
    return out


def data_lines(results: StudyResults) -> list[str]:
    """The dataset as loaded (before extraction), its split, and each modality's extractors."""
    first = next(iter(results.manifests.values()), None)
    if first is None:
        return ["no finished cells"]
    d, s = first.dataset, first.split
    section = results.study.section
    lines = [f"dataset {d.name} (fingerprint {d.fingerprint[:12]}, as loaded before extraction)",
             f"split {s.method} (checksum {s.checksum[:12]}): train {s.train_interactions:,}, valid "
             f"{s.valid_interactions:,}, test {s.test_interactions:,} interactions; {s.test_users:,} test users"]
    for modality, entries in section.get("modalities", {}).items():
        lines.append(f"{modality} extractors: {', '.join([*entries, *section.get('joint', {})])}")
    return lines + declared_defaults(results)


def protocol(results: StudyResults) -> list[str]:
    """The first page's protocol: models, design, reference, training and tests."""
    spec, cfg, section = results.study.spec, results.analysis, results.study.section
    return [f"models: {', '.join(spec.get('models', []))}"
            f"{' (+ CF counterparts)' if section.get('cf_baseline') else ''}; seeds: {spec.get('seeds')}",
            f"design: {section.get('design')} over extractors; reference "
            f"{combination_label(section.get('reference', {}))}; ablations: {section.get('ablations')}",
            f"{training_settings(spec)}; the same for every cell of a model; settings selected on validation "
            f"{cfg.metric}; test scored once per cell, full ranking",
            f"tests: paired {cfg.test}-test per user, {cfg.correction} correction, alpha {cfg.alpha}; seed-level "
            "paired t-test alongside; CKA and homophily from features.json (computed at study time)"]
