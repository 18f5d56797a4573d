"""Test-split accuracy of the seed study's all-data runs: `kino classify --json` on every sounds/test file, top label vs folder.

    WORK=~/.cache/kino-seed60 python3 Benchmarks/seed-study/score-test.py   (after run.sh; the full-lr1e-3 run is made by hand, see RESULTS.md)
"""
import json, os, subprocess, sys, concurrent.futures as cf
W = os.path.expanduser(os.environ.get("WORK", "~/.cache/kino-seed60")); D = os.path.expanduser(os.environ.get("DATA", "~/.cache/kino-data") + "/sounds/test")
K = os.environ.get("KINO", "/work/main/.build/release/kino")
files = [(c, os.path.join(D, c, f)) for c in sorted(os.listdir(D)) if os.path.isdir(os.path.join(D, c)) for f in sorted(os.listdir(os.path.join(D, c))) if f.endswith(".wav")]
def top(args):
    out = subprocess.run([K, "classify", args[1], "--top-k", "1", "--json", "--threads", "1"] + args[2], capture_output=True, text=True).stdout
    return args[0], json.loads(out.strip().split("\n")[-1])["labels"][0]["label"]
for m in ["linear", "linear-cached", "full", "full-lr1e-3", "bitfit", "lora", "ia3", "houlsby", "pfeiffer", "conformer", "prompt", "prefix"]:
    run = f"{W}/adapt-{m}"
    extra = ["--model", f"{run}/model"] if m.startswith("full") else ["--model", f"{W}/pretrain/model", "--adapter", f"{run}/adapter"]
    with cf.ThreadPoolExecutor(2) as ex:
        res = list(ex.map(top, [(c, p, extra) for c, p in files]))
    print(f"{m}: test accuracy {sum(a == b for a, b in res) / len(res):.3f} ({len(res)} files)", flush=True)
