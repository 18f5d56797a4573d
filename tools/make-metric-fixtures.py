"""Reference values for KinoTrain's validation metrics (Tests/KinoTrainTests/Fixtures/metrics.json):
scikit-learn's average_precision_score per class and macro, and f1_score (micro) of sigmoid > 0.5, on
seeded random multi-label logits with ties (scores rounded to one decimal) and one class without any
positive sample (left out of the mean, as Kino does; scikit-learn warns and gives 0 for it).

    tools/.venv/bin/python tools/make-metric-fixtures.py    # scikit-learn 1.5.2, numpy 1.26.4
"""
import json, sys
import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, f1_score

rng = np.random.default_rng(7)
n, classes = 40, 5
targets = (rng.random((n, classes)) < 0.35).astype(int)
targets[:, 4] = 0                          # a class no sample has
targets[0, :4] = 1
logits = np.round(rng.normal(size=(n, classes)) + 1.5 * (targets - 0.5), 1)   # one decimal: many ties
per_class = [float(average_precision_score(targets[:, c], logits[:, c])) if targets[:, c].any() else None for c in range(classes)]
defined = [v for v in per_class if v is not None]
predicted = (logits > 0).astype(int)
out = {
    "logits": logits.tolist(), "targets": [[c for c in range(classes) if targets[i, c]] for i in range(n)],
    "average_precision": per_class, "map": float(np.mean(defined)),
    "micro_f1": float(f1_score(targets, predicted, average="micro")),
    "exact_match": float(np.mean((predicted == targets).all(axis=1))),
    "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
    "command": "tools/.venv/bin/python tools/make-metric-fixtures.py",
}
path = "Tests/KinoTrainTests/Fixtures/metrics.json"
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print(path, "map", out["map"], "micro_f1", out["micro_f1"])
