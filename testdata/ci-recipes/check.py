#!/usr/bin/env python3
"""Runs the CI recipes of docs/ci.md against the test registries; `make test` runs it after `swift test`.

  check.py --harness testdata/out/registry/harness.json --bin .build/debug [--workdir DIR]

Each recipe is the fenced block whose first line names it (`# .github/workflows/image-secrets.yml`,
`# .gitlab-ci.yml`, `# deploy.sh`). The YAML ones are parsed, and their shape checked where the platform would
refuse or misread them; then every shell step runs, in order and as the platform runs it, with `docker` and
`fly` replaced by stand-ins (bin/) that push a real image to the harness's registries, and the real stowaway
built by this run on the PATH. Each recipe runs twice: with an image holding planted secrets (fresh ones, made
by testdata/demo-spec.py), where the pipeline must fail at the scan and keep a report that names them, and with
a clean image, where it must pass. The Fly script runs a third time with the first run's report accepted, and
must then pass: only new findings block a deploy.

What the check changes in a recipe, and why: GitHub expressions (`${{ ... }}`) and GitLab's predefined variables
get test values; `ghcr.io` and `registry.fly.io` are the harness's registries; those registries are plain HTTP,
so STOWAWAY_INSECURE_REGISTRY names them. The "Install stowaway" step is not run: this test run has just built
stowaway (and `make install` has a check of its own, testdata/install-check.sh).
"""
import argparse, json, os, re, secrets, shutil, string, subprocess, sys, tempfile, time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUBS = os.path.join(ROOT, "testdata", "ci-recipes", "bin")
failures = []


def check(ok, what):
    print(("ok     " if ok else "FAILED ") + what)
    if not ok:
        failures.append(what)
    return ok


def recipes(path):
    text = open(path).read()
    found = {}
    for m in re.finditer(r"```(?:yaml|sh)\n((?:#!.*\n)?# (\S+)[^\n]*\n.*?)```", text, re.S):
        found[m.group(2).rstrip(":")] = m.group(1)
    return found


def make_images(bin_dir, work):
    """Two image tarballs: the demo image (secrets planted in files, ENV, labels and history) and a clean one."""
    planted_spec = subprocess.run([sys.executable, os.path.join(ROOT, "testdata", "demo-spec.py"), "docker25"],
                                  check=True, capture_output=True, text=True).stdout
    clean_spec = json.dumps({
        "format": "docker25", "compression": "gzip", "tag": "app:latest",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "PORT=8080"], "Cmd": ["/app/server"]},
        "history": [{"created_by": "COPY app /app # buildkit"}],
        "layers": [{"files": [{"path": "app/", "type": "dir"},
                              {"path": "app/server.js", "content": "const port = process.env.PORT || 8080;\n"}]}],
    })
    tars = {}
    for name, spec in (("planted", planted_spec), ("clean", clean_spec)):
        spec_path, tar = os.path.join(work, name + ".json"), os.path.join(work, name + ".tar")
        with open(spec_path, "w") as f:
            f.write(spec)
        subprocess.run([os.path.join(bin_dir, "stowaway-fixture"), spec_path, tar], check=True, stdout=subprocess.DEVNULL)
        tars[name] = tar
    return tars


class Sandbox:
    """A HOME, a PATH (the stand-ins, stowaway, the system's tools) and a working directory for one pipeline run."""

    def __init__(self, work, name, image_tar, bin_dir, insecure):
        self.dir = os.path.join(work, name)
        self.cwd = os.path.join(self.dir, "checkout")
        for d in ("home", "state", "checkout", "tools"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.symlink(os.path.join(bin_dir, "stowaway"), os.path.join(self.dir, "tools", "stowaway"))
        with open(os.path.join(self.cwd, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY app /app\n")
        self.log = os.path.join(self.dir, "calls.log")
        self.env = {
            "PATH": f"{STUBS}:{self.dir}/tools:/usr/local/bin:/usr/bin:/bin",
            "HOME": os.path.join(self.dir, "home"), "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "LANG": "C.UTF-8", "STUB_STATE": os.path.join(self.dir, "state"), "STUB_LOG": self.log,
            "STUB_IMAGE_TAR": image_tar, "STOWAWAY_INSECURE_REGISTRY": insecure,
        }

    def run(self, script, shell, extra_env, timeout=300):
        env = dict(self.env, **extra_env)
        r = subprocess.run(shell + [script], cwd=self.cwd, env=env, capture_output=True, text=True, timeout=timeout)
        return r

    def calls(self):
        return open(self.log).read().splitlines() if os.path.exists(self.log) else []

    def file(self, name):
        return os.path.join(self.cwd, name)


def sarif_results(path):
    with open(path) as f:
        doc = json.load(f)
    return [r for run in doc["runs"] for r in run.get("results", [])]


def json_findings(path):
    with open(path) as f:
        doc = json.load(f)
    return [f for image in doc["images"] for f in image["findings"]]


# --------------------------------------------------------------------------- GitHub Actions

def github(text, sandbox_for, services):
    wf = yaml.safe_load(text)
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as `on`.
    check(("on" in wf or True in wf) and "jobs" in wf, "github: the workflow has triggers and jobs")
    job = next(iter(wf["jobs"].values()))
    steps = job["steps"]
    check(job.get("permissions", {}).get("security-events") == "write",
          "github: the job may upload to code scanning (permissions: security-events: write)")
    scan = [s for s in steps if "stowaway scan" in s.get("run", "")]
    upload = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    if not check(len(scan) == 1 and len(upload) == 1, "github: one scan step and one SARIF upload step"):
        return
    sarif = re.search(r"-o sarif=(\S+)", scan[0]["run"])
    check(sarif is not None and upload[0]["with"]["sarif_file"] == sarif.group(1),
          "github: the upload step uploads the file the scan step writes")
    check("always()" in str(upload[0].get("if", "")), "github: the upload runs even when the scan step failed")
    check(steps.index(upload[0]) > steps.index(scan[0]), "github: the upload comes after the scan")

    basic = services["basic"]
    expressions = {"github.repository": "ci/gh-" + secrets.token_hex(3), "github.sha": secrets.token_hex(20),
                   "github.actor": basic["username"], "secrets.GITHUB_TOKEN": basic["password"],
                   "github.repository_owner": "ci"}

    def substitute(value):
        def one(m):
            key = m.group(1).strip()
            if key not in expressions:
                raise KeyError(f"github: the check does not know the expression {key}")
            return expressions[key]
        return re.sub(r"\$\{\{(.*?)\}\}", one, str(value)).replace("ghcr.io", basic["host"])

    for kind in ("planted", "clean"):
        box = sandbox_for("github-" + kind, kind)
        env = {k: substitute(v) for k, v in job.get("env", {}).items()}
        env.update(GITHUB_PATH=os.path.join(box.dir, "github_path"), RUNNER_TEMP=os.path.join(box.dir, "runner"))
        failed_at = None
        for step in steps:
            if "run" not in step or step.get("name") == "Install stowaway":
                continue
            r = box.run(substitute(step["run"]), ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"], env)
            if r.returncode != 0:
                failed_at = (step.get("name"), r)
                break
        sarif_path = box.file(sarif.group(1))
        if kind == "planted":
            step_name, r = failed_at or (None, None)
            check(step_name == scan[0].get("name") and r.returncode == 1,
                  f"github, planted secrets: the job fails at the scan step, exit 1 "
                  f"(failed at {step_name!r}: {r and r.returncode} {r and r.stderr.strip()[-300:]})")
            ok = os.path.exists(sarif_path) and len(sarif_results(sarif_path)) >= 3
            check(ok, "github, planted secrets: the SARIF report to upload exists and lists the findings")
            check(r is not None and "CRITICAL" in r.stdout, "github, planted secrets: the log shows the text report")
        else:
            check(failed_at is None, f"github, clean image: every step passes "
                  f"({failed_at and (failed_at[0], failed_at[1].returncode, failed_at[1].stderr.strip()[-300:])})")
            check(os.path.exists(sarif_path) and sarif_results(sarif_path) == [],
                  "github, clean image: the SARIF report exists, with no result")
        check(any(c.startswith("docker push " + basic["host"]) for c in box.calls()),
              f"github, {kind}: the image was pushed to the registry it then scanned")


# --------------------------------------------------------------------------- GitLab CI

def gitlab(text, sandbox_for, services):
    doc = yaml.safe_load(text)
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    stages = doc.get("stages", ["build", "test", "deploy"])
    check(all(j.get("stage", "test") in stages for j in jobs.values()), "gitlab: every job's stage is declared")
    scan_jobs = [n for n, j in jobs.items() if any("stowaway scan" in line for line in j["script"])]
    if not check(len(scan_jobs) == 1, "gitlab: one job scans"):
        return
    scan_job = jobs[scan_jobs[0]]
    check(scan_job.get("artifacts", {}).get("when") == "always", "gitlab: the reports are kept when the scan fails")
    order = sorted(jobs, key=lambda n: stages.index(jobs[n].get("stage", "test")))
    check(order[-1] == scan_jobs[0], "gitlab: the scan runs after the image is built")

    basic = services["basic"]
    for kind in ("planted", "clean"):
        box = sandbox_for("gitlab-" + kind, kind)
        predefined = {"CI_REGISTRY": basic["host"], "CI_REGISTRY_IMAGE": f"{basic['host']}/ci/gl-{secrets.token_hex(3)}",
                      "CI_COMMIT_SHA": secrets.token_hex(20), "CI_REGISTRY_USER": basic["username"],
                      "CI_REGISTRY_PASSWORD": basic["password"]}
        env = dict(predefined)
        for k, v in doc.get("variables", {}).items():
            env[k] = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), str(v))
        failed = None
        for name in order:
            for line in jobs[name]["script"]:
                r = box.run(line, ["bash", "-eo", "pipefail", "-c"], env)
                if r.returncode != 0:
                    failed = (name, r)
                    break
            if failed:
                break
        paths = [box.file(p) for p in scan_job["artifacts"]["paths"]]
        if kind == "planted":
            name, r = failed or (None, None)
            check(name == scan_jobs[0] and r.returncode == 1,
                  f"gitlab, planted secrets: the pipeline fails at the scan job, exit 1 "
                  f"(failed at {name!r}: {r and r.returncode} {r and r.stderr.strip()[-300:]})")
            check(all(os.path.exists(p) for p in paths) and len(json_findings(paths[0])) >= 3,
                  "gitlab, planted secrets: the artifacts exist and the JSON report lists the findings")
        else:
            check(failed is None, f"gitlab, clean image: every job passes "
                  f"({failed and (failed[0], failed[1].returncode, failed[1].stderr.strip()[-300:])})")
            check(all(os.path.exists(p) for p in paths), "gitlab, clean image: the artifacts exist")


# --------------------------------------------------------------------------- Fly.io

def fly(text, sandbox_for, services, work):
    flyreg = services["fly"]
    app = "ci-" + secrets.token_hex(3)
    fixture = os.path.join(work, "fly-fixture.json")
    machine = {"id": "m1", "name": "m1", "state": "started", "region": "ams",
               "config": {"image": f"{flyreg['host']}/{app}:deployed"},
               "image_ref": {"registry": flyreg["host"], "repository": app, "tag": "deployed"}}
    with open(fixture, "w") as f:
        json.dump({"orgs": {"ci": [app]}, "machines": {app: [machine]}}, f)
    port_file = os.path.join(work, "fly-api.port")
    api = subprocess.Popen([sys.executable, os.path.join(ROOT, "testdata", "sweep", "standin.py"), "fly",
                            "--port-file", port_file, "--token", flyreg["password"], "--fixture", fixture,
                            "--max-seconds", "600"])
    try:
        for _ in range(100):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.1)
        port = open(port_file).read().strip()
        script = text.replace("registry.fly.io", flyreg["host"])
        env = {"FLY_APP": app, "FLY_API_TOKEN": flyreg["password"], "FLY_API_HOSTNAME": f"http://127.0.0.1:{port}",
               "FLY_REGISTRY_HOST": flyreg["host"]}

        box = sandbox_for("fly-planted", "planted")
        with open(os.path.join(box.cwd, "deploy.sh"), "w") as f:
            f.write(script)
        r = box.run("./deploy.sh", ["sh"], env)
        deployed = [c for c in box.calls() if c.startswith("fly deploy") and "--image " in c]
        check(r.returncode == 1 and not deployed and os.path.exists(box.file("stowaway-image.json")),
              f"fly, planted secrets: the script stops at the scan of the built image, before deploying "
              f"(exit {r.returncode}, deploys {deployed}, {r.stderr.strip()[-300:]})")
        report = box.file("stowaway-image.json")
        check(os.path.exists(report) and len(json_findings(report)) >= 3,
              "fly, planted secrets: the image's JSON report lists the findings")

        if not os.path.exists(report):
            return
        # The same image again, its findings accepted: nothing new, so it deploys and the app's scan passes.
        os.makedirs(box.file(".stowaway"), exist_ok=True)
        shutil.copy(report, box.file(".stowaway/accepted.json"))
        r = box.run("./deploy.sh", ["sh"], env)
        check(r.returncode == 0 and os.path.exists(box.file("stowaway-app.json")),
              f"fly, accepted findings: the script deploys and passes (exit {r.returncode}, {r.stderr.strip()[-300:]})")
        if os.path.exists(box.file("stowaway-app.json")):
            with open(box.file("stowaway-app.json")) as f:
                images = json.load(f)["images"]
            check(any(f"{app}:deployed" in i.get("reference", "") for i in images),
                  "fly, accepted findings: `scan --fly-app` scanned the image the machine runs")

        box = sandbox_for("fly-clean", "clean")
        with open(os.path.join(box.cwd, "deploy.sh"), "w") as f:
            f.write(script)
        r = box.run("./deploy.sh", ["sh"], env)
        check(r.returncode == 0 and any("--image " in c for c in box.calls()),
              f"fly, clean image: the script deploys and passes (exit {r.returncode}, {r.stderr.strip()[-300:]})")
    finally:
        api.terminate()
        api.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--harness", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir")
    args = ap.parse_args()
    services = json.load(open(args.harness))
    bin_dir = os.path.abspath(args.bin)
    work = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="ci-recipes-"))
    os.makedirs(work, exist_ok=True)
    insecure = ",".join(s["host"] for s in services.values() if isinstance(s, dict) and s.get("scheme") == "http")
    tars = make_images(bin_dir, work)
    found = recipes(os.path.join(ROOT, "docs", "ci.md"))
    names = [".github/workflows/image-secrets.yml", ".gitlab-ci.yml", "deploy.sh"]
    if not check(sorted(found) == sorted(names), f"docs/ci.md has the three recipes {names} (found {sorted(found)})"):
        sys.exit(1)

    def sandbox_for(name, kind):
        return Sandbox(work, name, tars[kind], bin_dir, insecure)

    github(found[names[0]], sandbox_for, services)
    gitlab(found[names[1]], sandbox_for, services)
    fly(found[names[2]], sandbox_for, services, work)
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"ci recipes: {len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("ci recipes: every check passed")


if __name__ == "__main__":
    main()
