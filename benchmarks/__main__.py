"""`python -m benchmarks [suite ...]`: run benchmark suites, print tables, write JSON to
benchmarks/results/. Suites: models (Last.fm-2K per-model speed/accuracy vs the reference),
scale (Amazon-Elec shape on CPU), imputation (graph + imputers at 20k items), imputation_quality
(every strategy vs the truth; learned imputers' fit times), evaluation, contention (study wall time
under each execution setting, idle and beside a competing process), imputer_selection (retrain vs
reconstruction), learning_rate (each model's learning rate chosen on validation: a study's
train_by_model), study_estimate (a whole study's time from a stratified sample), seed_batch (seeds
trained together vs apart), calibration (A/A false-positive rate of the claim rule), runner
(serial vs --jobs vs Ray)."""
from __future__ import annotations

import sys

SUITES = {
    "models": "benchmarks.models",
    "scale": "benchmarks.scale",
    "imputation": "benchmarks.imputation",
    "imputation_quality": "benchmarks.imputation_quality",
    "evaluation": "benchmarks.evaluation_bench",
    "contention": "benchmarks.contention",
    "imputer_selection": "benchmarks.imputer_selection",
    "learning_rate": "benchmarks.learning_rate",
    "study_estimate": "benchmarks.study_estimate",
    "seed_batch": "benchmarks.seed_batch",
    "calibration": "benchmarks.calibration",
    "runner": "benchmarks.runner",
}  # benchmarks.gpu needs a CUDA machine: run it there by name


def main(argv: list[str]) -> int:
    import subprocess

    names = [a for a in argv if not a.startswith("-")] or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown suite {unknown[0]!r}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        code = subprocess.run([sys.executable, "-m", SUITES[name]]).returncode
        if code:
            print(f"suite {name} failed with exit code {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
