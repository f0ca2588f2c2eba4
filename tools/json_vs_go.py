#!/usr/bin/env python3
"""json_codec against Go's encoding/json on the same frames, measured in the same run (issue 12).

    tools/json_vs_go.py BUILD_DIR [--runs 5] [--seconds 0.3] [--go-maxprocs 1]

BUILD_DIR holds wspulse-micro-codec (a build with WSPULSE_CLIENT_BUILD_BENCH=ON and Google
Benchmark, e.g. build/bench from `make bench`). The codec program writes its frames' encoded
messages; bench/go_json (standard library only, built with the local Go, no network) decodes
each, checks that encoding it gives back the same bytes, and measures json.Marshal and
json.Unmarshal of the Go client's Frame on them. The two programs alternate, --runs times, each
case running --seconds per run; the table shows medians, and the spread of the per-run ratios.
Ours: encode into a fresh string, decode into a fresh frame (as send() and on_message do); Go:
json.Marshal, json.Unmarshal into a fresh Frame. Times are wall clock for both.
Go runs with GOMAXPROCS=1 by default: one core, as our single-threaded codec. With more, its
garbage collector works on other cores, which helps on an idle machine but, on a busy one,
made Go up to 1.6x slower here (0 leaves Go's default).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = ("encode", "decode")


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kwargs).stdout


def ours(codec, seconds):
    """{(frame, op): (ns, allocs)} for our codec and the RapidJSON DOM ("dom_<op>")."""
    out = run([codec, "--benchmark_filter=^(dom_)?(encode|decode)/",
               f"--benchmark_min_time={seconds}", "--benchmark_format=json"],
              stderr=subprocess.DEVNULL)
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6}
    results = {}
    for b in json.loads(out)["benchmarks"]:
        op, frame = b["name"].split("/", 1)
        results[(frame, op)] = (b["real_time"] * scale[b["time_unit"]], b["allocs/op"])
    return results


def go(program, frames, seconds, maxprocs):
    env = dict(os.environ)
    if maxprocs > 0:
        env["GOMAXPROCS"] = str(maxprocs)
    out = run([program, "-frames", frames, "-benchtime", f"{seconds}s"], env=env)
    results = {}
    for line in out.splitlines():
        r = json.loads(line)
        results[(r["frame"], r["op"])] = (r["ns_per_op"], r["allocs_per_op"], r["bytes"])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3)
    parser.add_argument("--go-maxprocs", type=int, default=1)
    args = parser.parse_args()

    build_dir = os.path.abspath(args.build_dir)  # go build runs in bench/go_json
    codec = os.path.join(build_dir, "wspulse-micro-codec")
    if not os.access(codec, os.X_OK):
        sys.exit(f"json_vs_go: no {codec}: build it (Google Benchmark: tools/setup.sh --bench)")
    work = os.path.join(build_dir, "json_vs_go")
    frames = os.path.join(work, "frames")
    os.makedirs(frames, exist_ok=True)
    run([codec, f"--write-frames={frames}"])
    program = os.path.join(work, "go_json")
    # Standard library only: no module download, no toolchain download.
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off")
    run(["go", "build", "-o", program, "."], cwd=os.path.join(ROOT, "bench", "go_json"), env=env)

    ours_runs, go_runs = [], []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}", file=sys.stderr)
        ours_runs.append(ours(codec, args.seconds))
        go_runs.append(go(program, frames, args.seconds, args.go_maxprocs))

    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"json_codec vs Go encoding/json: median of {args.runs} alternating runs, "
          f"{args.seconds} s per case per run")
    maxprocs = args.go_maxprocs if args.go_maxprocs > 0 else "Go's default"
    print(f"machine: nproc {os.cpu_count()}, {cpu}, load {load}; {run(['go', 'version']).strip()}, "
          f"GOMAXPROCS {maxprocs}")
    print("Go encodes each decoded message back to the same bytes (checked): identical frames.")
    print("x Go = Go ns / our ns (how many times faster ours is; min-max over the runs); "
          "x DOM likewise for the RapidJSON DOM baseline.\n")
    header = (f"{'frame':<16} {'op':<7} {'bytes':>6} {'ours ns':>9} {'Go ns':>9} {'x Go':>6} "
              f"{'(min-max)':>11} {'DOM ns':>9} {'x DOM':>6} {'allocs ours/Go':>15}")
    print(header)
    print("-" * len(header))
    for frame in sorted({k[0] for k in go_runs[0]}, key=lambda f: (f.split("/")[0] != "realistic",
                                                                   f.split("/")[0],
                                                                   int(f.split("/")[1]))):
        for op in OPS:
            our_ns = [r[(frame, op)][0] for r in ours_runs]
            dom_ns = [r[(frame, "dom_" + op)][0] for r in ours_runs]
            go_ns = [r[(frame, op)][0] for r in go_runs]
            ratios = [g / o for g, o in zip(go_ns, our_ns)]
            o, g, d = (statistics.median(v) for v in (our_ns, go_ns, dom_ns))
            allocs = f"{ours_runs[0][(frame, op)][1]:.0f}/{go_runs[0][(frame, op)][1]}"
            print(f"{frame:<16} {op:<7} {go_runs[0][(frame, op)][2]:>6} {o:>9.0f} {g:>9.0f} "
                  f"{g / o:>6.2f} {min(ratios):>5.2f}-{max(ratios):<5.2f} {d:>9.0f} {d / o:>6.2f} "
                  f"{allocs:>15}")
    print("\nissue 12 target: encode >= 5x Go on realistic frames (the x Go column).")


if __name__ == "__main__":
    main()
