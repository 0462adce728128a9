"""The controls' verdicts: an A/A control fails when the claim rule calls its difference
significant, a noise control when noise content significantly beats the CF counterpart; the
first page warns about each failure."""
import pandas as pd

from mmstudy.analysis import controls as controls_module
from mmstudy.analysis.controls import controls_table
from mmstudy.report.calibration import control_checks, control_sentences


def planted(control, rows):
    return pd.DataFrame([{"control": control, "model": m, "baseline": b, "metric": "Recall@20", "mean_diff": d,
                          "diff_ci_low": d - 0.01, "diff_ci_high": d + 0.01, "p_adj": p, "significant": p < 0.05,
                          "user_p_adj": min(1.0, p / 10), "user_significant": p / 10 < 0.05}
                         for m, b, d, p in rows])


def test_verdicts_follow_the_claim_rule(monkeypatch):
    tables = {"aa": planted("aa", [("VBPR", "reference", 0.001, 0.8), ("LightGCN-M", "reference", 0.03, 0.01)]),
              "noise": planted("noise", [("VBPR", "BPR-MF", -0.05, 0.001), ("FREEDOM", "LightGCN", 0.02, 0.01)])}
    monkeypatch.setattr(controls_module, "control_pairs", lambda results, control: [control])
    monkeypatch.setattr(controls_module, "compare_groups", lambda results, pairs, *a, **k: tables[pairs[0]])

    class Results:
        class analysis:
            metric = "Recall@20"

    table = controls_table(Results())
    assert table["passed"].tolist() == [True, False, True, False]  # noise that *loses* significantly passes
    checks = control_checks(table)
    assert [c.passed for c in checks] == [True, False, True, False]
    assert "WARNING" in checks[1].evidence and "training noise passes the claim rule" in checks[1].evidence
    assert "WARNING noise content beats LightGCN" in checks[3].evidence
    assert "user-level alone: p 0.08" not in checks[0].evidence  # 0.08 is not significant: nothing to add
    sentences = control_sentences(table)
    assert "FAILED for LightGCN-M" in sentences[0] and "FAILED for FREEDOM" in sentences[1]
    assert "user-level test alone would have called 1 of these A/A differences significant" in sentences[0]


def test_control_sentences_name_a_single_model():
    import pandas as pd

    def table(models):
        return pd.DataFrame({"control": "aa", "model": models, "passed": True, "user_significant": False})

    assert control_sentences(table(["VBPR"])) == [
        "The A/A control (the reference re-trained on disjoint seeds) passed for VBPR."]
    assert "passed for all 2 models." in control_sentences(table(["VBPR", "LightGCN-M"]))[0]
