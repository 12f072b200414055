"""Isolation Forest baseline for bench/wasm_iforest.ts: scikit-learn (Debian python3-sklearn).

Usage: sklearn_iforest.py DATA_FILE RUNS SEED (AUC is also reported for seeds 1..5)
DATA_FILE: int32 train_rows, int32 test_rows, int32 cols, then train (float64, row-major),
test (float64, row-major), test labels (uint8, 1 = injected outlier).
Fits IsolationForest(n_estimators=100, max_samples=256, random_state=SEED, n_jobs=1) and
scores the test set RUNS times; prints one JSON line with fit and score times (ms, wall and
process CPU) and the ROC-AUC of -score_samples (higher = more anomalous).
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def main():
    path, runs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    raw = open(path, "rb").read()
    tr, te, cols = np.frombuffer(raw, dtype=np.int32, count=3)
    off = 12
    train = np.frombuffer(raw, dtype=np.float64, count=tr * cols, offset=off).reshape(tr, cols)
    off += 8 * tr * cols
    test = np.frombuffer(raw, dtype=np.float64, count=te * cols, offset=off).reshape(te, cols)
    off += 8 * te * cols
    labels = np.frombuffer(raw, dtype=np.uint8, count=te, offset=off)

    fit_wall, fit_cpu = [], []
    for _ in range(3):
        c0, t0 = time.process_time(), time.perf_counter()
        model = IsolationForest(n_estimators=100, max_samples=256, random_state=seed, n_jobs=1)
        model.fit(train)
        fit_wall.append((time.perf_counter() - t0) * 1000)
        fit_cpu.append((time.process_time() - c0) * 1000)
    model.score_samples(test[:1000])  # warm-up
    score_wall, score_cpu = [], []
    scores = None
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        scores = -model.score_samples(test)
        score_wall.append((time.perf_counter() - t0) * 1000)
        score_cpu.append((time.process_time() - c0) * 1000)
    aucs = []
    for s in range(1, 6):
        m = IsolationForest(n_estimators=100, max_samples=256, random_state=s, n_jobs=1).fit(train)
        aucs.append(float(roc_auc_score(labels, -m.score_samples(test))))
    print(json.dumps({
        "auc_seeds_1_to_5": aucs,
        "fit_ms": fit_wall,
        "fit_cpu_ms": fit_cpu,
        "score_ms": score_wall,
        "score_cpu_ms": score_cpu,
        "auc": float(roc_auc_score(labels, scores)),
        "sklearn": sklearn.__version__,
    }))


main()
