#!/usr/bin/env python3
"""Benchmark helm-k8s-service against helm, side by side in one run.

Each pair of commands runs alternately (A, B, A, B, ...) so both see the same machine state;
the table gives the median and min-max wall time of each side, the ratio of the medians, and
the peak memory (max RSS, from wait4 in scripts/bench/runner.rs) of each side.

    scripts/bench.py            # the full benchmark (about 20 minutes on 2 cores)
    scripts/bench.py --smoke    # tiny sizes, to check that it still runs (the test command does)

Needs: the release build of scripts/build-release.sh (run here), .tools/bin/helm3 and helm4
(scripts/install-test-tools.sh). Fixtures go to target/bench/ (not in git).
"""

import argparse
import gzip
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")
# The release binary the plugin installs (scripts/build-release.sh), set by ensure_release_build.
BIN = None
HELMS = {
    "helm3": os.environ.get("HELM3_BIN", os.path.join(ROOT, ".tools/bin/helm3")),
    "helm4": os.environ.get("HELM4_BIN", os.path.join(ROOT, ".tools/bin/helm4")),
}


RUNNER = os.path.join(WORK, "runner")
FLOOR = os.path.join(WORK, "floor")


def run_once(cmd, env=None):
    """Wall seconds and max RSS (KiB) of one run, measured by scripts/bench/runner.rs (see there
    why not here); fails loudly if the command fails."""
    p = subprocess.run([RUNNER, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.decode(errors="replace").rstrip().split("\n")
    try:
        wall, rss, code = err[-1].split()
    except ValueError:
        sys.exit(f"benchmark runner failed: {' '.join(cmd)}\n" + "\n".join(err))
    if p.returncode != 0 or code != "0":
        sys.exit(f"benchmark command failed: {' '.join(cmd)}\n" + "\n".join(err))
    return float(wall), int(rss)


def pair(label, ours, theirs, reps, env=None, target=None):
    """Run two commands alternately `reps` times; returns a result row.

    A command is a list, or a function returning one (called before each run, e.g. to give
    every run a fresh output directory). `target` is (max time ratio, max memory ratio or None).
    """
    a, b = [], []
    for _ in range(reps):
        for cmd, out in ((ours, a), (theirs, b)):
            out.append(run_once(cmd() if callable(cmd) else cmd, env=env))
    return row(label, a, b, target)


def row(label, a, b, target=None):
    wa, wb = [x[0] for x in a], [x[0] for x in b]
    ma, mb = statistics.median(wa), statistics.median(wb)
    ra, rb = max(x[1] for x in a), max(x[1] for x in b)
    verdict = ""
    if target:
        t_time, t_mem = target
        ok = ma / mb <= t_time and (t_mem is None or ra / rb <= t_mem)
        verdict = f"{'met' if ok else 'MISSED'} (<= {t_time}x" + (f", mem <= {t_mem}x" if t_mem else "") + ")"
    return {
        "label": label,
        "ours": f"{ms(ma)} ({ms(min(wa))}-{ms(max(wa))})",
        "theirs": f"{ms(mb)} ({ms(min(wb))}-{ms(max(wb))})",
        "ratio": f"{ma / mb:.3f}x",
        "mem": f"{ra / 1024:.1f} / {rb / 1024:.1f} MiB ({ra / rb:.2f}x)",
        "target": verdict,
        "median_ours": ma,
        "peak_ours_mib": ra / 1024,
    }


def ms(s):
    return f"{s * 1000:.1f} ms" if s < 10 else f"{s:.1f} s"


def print_table(rows, notes):
    for n in notes:
        print(n)
    print()
    print("| benchmark | helm-k8s-service median (min-max) | other side median (min-max) | time ratio | peak RSS ours / other | target |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} | {r['ours']} | {r['theirs']} | {r['ratio']} | {r['mem']} | {r['target']} |")
    print()


def machine():
    """CPU model, cores, kernel and the helm versions, for the table's heading."""
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name, helm in HELMS.items():
        out = subprocess.run([helm, "version", "--short"], capture_output=True, text=True).stdout.strip()
        versions.append(f"{name} {out}")
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}; {', '.join(versions)}"


class Fresh:
    """A new, empty output directory for every run (`Fresh(base)()` returns its path), so each
    run writes new files the same way (replacing files would favour whoever overwrites in
    place); all are removed at the end."""

    def __init__(self, base):
        self.base, self.n = base, 0
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)

    def __call__(self):
        self.n += 1
        return os.path.join(self.base, str(self.n))

    def clean(self):
        shutil.rmtree(self.base, ignore_errors=True)


def ensure_release_build():
    # Always: cargo does nothing when the binary is up to date, and a stale one would measure
    # (or fail on) old code. The script builds what install-binary.sh installs.
    global BIN
    BIN = subprocess.check_output(["sh", os.path.join(ROOT, "scripts", "build-release.sh"), "--quiet"],
                                  cwd=ROOT, text=True).strip()
    os.makedirs(WORK, exist_ok=True)
    build_tool(RUNNER, "runner.rs")
    build_tool(FLOOR, "floor.rs", static=True)


def build_tool(binary, name, static=False):
    """Builds one of scripts/bench/'s std-only programs with the machine's rustc, when stale.
    `static`: linked like the release binary (glibc in) where the toolchain can, else plainly."""
    source = os.path.join(ROOT, "scripts", "bench", name)
    if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(source):
        return
    cmd = ["rustc", "--edition", "2024", "-O", "-o", binary, source]
    if static and subprocess.run([*cmd, "-C", "target-feature=+crt-static"], stderr=subprocess.DEVNULL).returncode == 0:
        return
    subprocess.check_call(cmd)


def fresh_package(spec, fresh):
    """Packages `spec` into a fresh directory and returns that directory."""
    out = fresh()
    subprocess.check_call([BIN, "package", spec, "-d", out], stdout=subprocess.DEVNULL)
    return out


def generate(spec, out):
    if os.path.exists(out):
        shutil.rmtree(out)
    subprocess.check_call([BIN, "generate", spec, "--output", out], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    return os.path.join(out, os.listdir(out)[0])


def fake_archives(template_dir, dest, count):
    """`count` distinct chart archives (name i%50, version 0.i.0) made from a real chart dir.

    Like the versions of real charts, each has its own values.yaml (its image tag), so nothing
    can be skipped as already seen."""
    os.makedirs(dest, exist_ok=True)
    files = []
    for base, _, names in os.walk(template_dir):
        for n in sorted(names):
            path = os.path.join(base, n)
            files.append((os.path.relpath(path, template_dir), open(path, "rb").read()))
    chart_yaml = dict(files)["Chart.yaml"].decode()
    for i in range(count):
        name, version = f"svc{i % 50}", f"0.{i}.0"
        text = chart_yaml.replace("\nname: ", f"\nname: {name}\n# was: ").replace(
            "\nversion: ", f"\nversion: {version}\n# was: ")
        values = dict(files)["values.yaml"].decode().replace('  tag: "', f'  tag: "0.{i}.0-', 1)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for rel, data in files:
                data = text.encode() if rel == "Chart.yaml" else values.encode() if rel == "values.yaml" else data
                info = tarfile.TarInfo(f"{name}/{rel}")
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        with open(os.path.join(dest, f"{name}-{version}.tgz"), "wb") as f:
            f.write(gzip.compress(buf.getvalue(), mtime=0))


def plugin_home():
    """An isolated helm home with this checkout installed as the plugin (bin/ from the build)."""
    home = os.path.join(WORK, "helm-home")
    plugin = os.path.join(home, "plugins", "k8s-service")
    if os.path.exists(home):
        shutil.rmtree(home)
    os.makedirs(os.path.join(plugin, "bin"))
    shutil.copy(os.path.join(ROOT, "plugin.yaml"), plugin)
    shutil.copy(BIN, os.path.join(plugin, "bin"))
    env = dict(os.environ)
    env.update(HELM_PLUGINS=os.path.join(home, "plugins"), HELM_CONFIG_HOME=os.path.join(home, "config"),
               HELM_DATA_HOME=os.path.join(home, "data"), HELM_CACHE_HOME=os.path.join(home, "cache"))
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: check the script still works")
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args()
    smoke = args.smoke
    reps = args.reps or (2 if smoke else 21)
    big_reps = 1 if smoke else 5
    sizes = (20, 50) if smoke else (1000, 10000)
    batch = 20 if smoke else 1000

    ensure_release_build()
    os.makedirs(WORK, exist_ok=True)
    small, large = os.path.join(ROOT, "examples/hello.yaml"), os.path.join(ROOT, "examples/full.yaml")
    rows = []
    fresh = Fresh(os.path.join(WORK, "out"))

    # 1. package vs helm package of the same chart directory (the one `generate` writes).
    charts = {}
    for spec in (small, large):
        chart = charts[spec] = generate(spec, os.path.join(WORK, "gen-" + os.path.basename(spec)))
        for hname, helm in HELMS.items():
            rows.append(pair(f"`package {os.path.basename(spec)}` vs `{hname} package` of its chart dir",
                             lambda spec=spec: [BIN, "package", spec, "-d", fresh()],
                             lambda helm=helm, chart=chart: [helm, "package", chart, "-d", fresh()],
                             reps, target=(0.06, 0.25)))

    # 1b. The floor of one `package` on this machine: a program that only starts, makes the
    #     directory and writes a file of full.yaml's archive size (scripts/bench/floor.rs), with
    #     our durable write's two fsyncs and without, against the same helm runs as above.
    size = os.path.getsize(os.path.join(fresh_package(large, fresh), "payments-0.1.0.tgz"))
    for hname, helm in HELMS.items():
        for flags, what in (([], "durable write"), (["--no-sync"], "write without fsync")):
            rows.append(pair(f"floor: start + {what} of {size // 1000} KB (no work) vs `{hname} package` of full.yaml's chart dir",
                             lambda flags=flags: [FLOOR, fresh(), str(size), *flags],
                             lambda helm=helm: [helm, "package", charts[large], "-d", fresh()],
                             reps))

    # 2. The plugin through helm's launcher vs `helm version` alone.
    env = plugin_home()
    for hname, helm in HELMS.items():
        rows.append(pair(f"`{hname} k8s-service package hello.yaml` vs `{hname} version`",
                         lambda helm=helm: [helm, "k8s-service", "package", small, "-d", fresh()],
                         [helm, "version"], reps, env=env, target=(1.15, None)))

    # 3. repo index vs helm repo index, and a merge of one new chart into the largest index.
    template = generate(large, os.path.join(WORK, "gen-index"))
    for n in sizes:
        d = os.path.join(WORK, f"repo-{n}")
        stamp = os.path.join(WORK, f"repo-{n}.distinct-values")
        if not os.path.isdir(d) or not os.path.exists(stamp) or len([f for f in os.listdir(d) if f.endswith(".tgz")]) != n:
            shutil.rmtree(d, ignore_errors=True)
            fake_archives(template, d, n)
            open(stamp, "w").close()
        for hname, helm in HELMS.items():
            rows.append(pair(f"`repo index`, {n} charts vs `{hname} repo index`", [BIN, "repo", "index", d],
                             [helm, "repo", "index", d], big_reps,
                             target=(0.1, 1.0) if n == sizes[-1] else None))
    n = sizes[-1]
    d = os.path.join(WORK, f"repo-{n}")
    subprocess.check_call([BIN, "repo", "index", d], stderr=subprocess.DEVNULL)
    shutil.copy(os.path.join(d, "index.yaml"), os.path.join(WORK, "old-index.yaml"))
    newdir = os.path.join(WORK, "merge-new")
    shutil.rmtree(newdir, ignore_errors=True)
    os.makedirs(newdir)
    subprocess.check_call([BIN, "package", small, "-d", newdir, "--version", "9.9.9"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    merge = [BIN, "repo", "index", newdir, "--merge", os.path.join(WORK, "old-index.yaml")]
    rows.append(pair(f"`repo index --merge` of 1 chart into {n} vs a full `repo index` of {n} (ours)", merge,
                     [BIN, "repo", "index", d], big_reps, target=(0.05, None)))

    # 4. Batch: many specs in one invocation vs one invocation each vs helm package of the dirs.
    specs = os.path.join(WORK, "specs")
    shutil.rmtree(specs, ignore_errors=True)
    os.makedirs(specs)
    text = open(large).read()
    for i in range(batch):
        with open(os.path.join(specs, f"svc{i}.yaml"), "w") as f:
            f.write(text.replace("name: payments", f"name: svc{i}"))
    one = lambda: [BIN, "package", specs, "-d", fresh()]
    loop = lambda: ["sh", "-c", f'out="{fresh()}"; for f in "{specs}"/*.yaml; do '
                                f'"{BIN}" package "$f" -d "$out" >/dev/null || exit 1; done']
    batch_row = pair(f"{batch} specs in one `package` vs {batch} `package` invocations", one, loop, big_reps)
    rows.append(batch_row)
    dirs = os.path.join(WORK, "batch-dirs")
    shutil.rmtree(dirs, ignore_errors=True)
    subprocess.check_call([BIN, "generate", specs, "--output", dirs], stdout=subprocess.DEVNULL)
    for hname, helm in HELMS.items():
        helm_loop = lambda helm=helm: ["sh", "-c", f'out="{fresh()}"; cd "{dirs}" && "{helm}" package * -d "$out" >/dev/null']
        rows.append(pair(f"{batch} specs in one `package` vs one `{hname} package` of {batch} chart dirs", one,
                         helm_loop, big_reps))

    # 5. Argo CD: the plugin's render of one application (chart built, then `helm template` run
    #    by us) vs `helm template` of the same chart dir, and a repo-server refresh: many
    #    applications rendered one after another, each way.
    app = os.path.join(WORK, "argocd-app")
    shutil.rmtree(app, ignore_errors=True)
    os.makedirs(app)
    shutil.copy(large, os.path.join(app, "k8s-service.yaml"))
    chart = generate(large, os.path.join(WORK, "gen-argocd"))
    n_apps = 20 if smoke else 500
    apps = os.path.join(WORK, "argocd-apps")
    shutil.rmtree(apps, ignore_errors=True)
    for i in range(n_apps):
        os.makedirs(os.path.join(apps, f"svc{i}"))
        shutil.copy(os.path.join(specs, f"svc{i % batch}.yaml"), os.path.join(apps, f"svc{i}", "k8s-service.yaml"))
    app_charts = os.path.join(WORK, "argocd-charts")
    shutil.rmtree(app_charts, ignore_errors=True)
    subprocess.check_call([BIN, "generate", specs, "--output", app_charts], stdout=subprocess.DEVNULL)
    kube = ["--kube-version", "1.35.0"]
    for hname, helm in HELMS.items():
        env = dict(os.environ, HELM_BIN=helm, ARGOCD_APP_NAME="payments", ARGOCD_APP_NAMESPACE="payments",
                   KUBE_VERSION="1.35.0", KUBE_API_VERSIONS="v1,apps/v1,autoscaling/v2,batch/v1,policy/v1")
        rows.append(pair(f"`argocd generate` of full.yaml vs `{hname} template` of its chart dir",
                         [BIN, "argocd", "generate", "--dir", app],
                         [helm, "template", "payments", chart, "--namespace", "payments", *kube], reps, env=env))
        ours_loop = ["sh", "-c", f'for d in "{apps}"/*; do ARGOCD_APP_NAME=$(basename "$d") '
                                 f'"{BIN}" argocd generate --dir "$d" >/dev/null || exit 1; done']
        helm_loop = ["sh", "-c", f'i=0; for d in "{app_charts}"/*; do [ $i -lt {n_apps} ] || break; i=$((i+1)); '
                                 f'"{helm}" template "$(basename "$d")" "$d" --namespace payments {" ".join(kube)} '
                                 f'>/dev/null || exit 1; done']
        rows.append(pair(f"{n_apps} Argo CD applications in a row (a refresh) vs {n_apps} `{hname} template`",
                         ours_loop, helm_loop, 1, env=env))

    # 6. plan --from OLD SPEC (offline: both sides rendered by `helm template`, then compared)
    #    vs the two `helm template` runs it wraps, of the two chart dirs. A new image tag: the
    #    plan says the pods restart (exit 2), which is the answer, not a failure.
    new_spec = os.path.join(WORK, "plan-new.yaml")
    with open(new_spec, "w") as f:
        f.write(text.replace('tag: "2.7.1"', 'tag: "2.7.2"', 1))
    old_chart = generate(large, os.path.join(WORK, "gen-plan-old"))
    new_chart = generate(new_spec, os.path.join(WORK, "gen-plan-new"))
    for hname, helm in HELMS.items():
        env = dict(os.environ, HELM_BIN=helm)
        ours = ["sh", "-c", f'"{BIN}" plan payments "{new_spec}" --from "{large}" >/dev/null; [ $? -ne 1 ]']
        theirs = ["sh", "-c", f'"{helm}" template payments "{old_chart}" >/dev/null && '
                              f'"{helm}" template payments "{new_chart}" >/dev/null']
        rows.append(pair(f"`plan --from full.yaml` (new tag) vs two `{hname} template` of the chart dirs", ours,
                         theirs, reps, env=env))

    fresh.clean()
    rate = batch / batch_row["median_ours"]
    notes = [f"Machine: {machine()}.",
             f"{reps} alternating repetitions per pair ({big_reps} for repo index and batches); wall time medians.",
             f"Batch rate: {rate:.0f} charts/s ({batch} copies of full.yaml in one invocation; target >= 1500: "
             f"{'met' if rate >= 1500 else 'MISSED'}); peak memory of that batch {batch_row['peak_ours_mib']:.1f} MiB "
             f"(flat in the number of specs: archives are staged on disk as they are built)."]
    print_table(rows, notes)


if __name__ == "__main__":
    main()
