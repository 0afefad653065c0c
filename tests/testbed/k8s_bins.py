# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the real Kubernetes and etcd binaries of the test bed from the Go module proxy, cached by build inputs.

    k8s_bins.py build [MINOR ... | all]   build what is not cached yet (default: the CI minors of releases.json)
    k8s_bins.py stage MINOR DEST          hard-link that minor's binaries into DEST/bin, its record into DEST/release.json
    k8s_bins.py info [MINOR ...]          the build records (times, sizes, versions) as JSON

k8s.io/kubernetes cannot be built with `go install` by module name: its go.mod replaces every k8s.io staging
module with a directory of its own repository, which a module zip does not contain. A wrapper module requires
k8s.io/kubernetes and replaces each staging module it names with the published v0.<minor>.<patch> release, which is
the same source. The replace list and the godebug default are read from the release's own go.mod
(`go mod edit -json`), so nothing here is a copy of it. etcd is the version that the built kubeadm deploys
(`kubeadm config images list`), built the same way from go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3.

Cache: SCK8S_K8S_BIN_CACHE (default /var/tmp/sck8s-k8s-bins), outside the checkout. A build directory is named
after its version and the sha256 of its recipe (version, Go version, flags, components), so a change of any input
builds anew and a warm run costs a few `go env` calls. A build lands by rename only after every binary printed its
version. Environment: SCK8S_GOTOOLCHAIN (default go1.27.3), used only when a release needs a newer Go than the
machine's.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RELEASES = json.loads((HERE / "releases.json").read_text())
CACHE = Path(os.environ.get("SCK8S_K8S_BIN_CACHE", "/var/tmp/sck8s-k8s-bins"))
FALLBACK_TOOLCHAIN = os.environ.get("SCK8S_GOTOOLCHAIN", "go1.27.3")

# Bump when the way a build is made changes in a way the recipe below does not show.
RECIPE_REVISION = 1

K8S_COMPONENTS = ("kubeadm", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
                  "kube-proxy", "kubectl")
ETCD_COMPONENTS = {"etcd": "go.etcd.io/etcd/server/v3", "etcdctl": "go.etcd.io/etcd/etcdctl/v3",
                   "etcdutl": "go.etcd.io/etcd/etcdutl/v3"}
# As the Kubernetes release build links them: static, no DWARF or symbol table (half the size, faster links).
GO_ENV = {"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64", "GOFLAGS": "-buildvcs=false"}
BUILD_FLAGS = ["-trimpath"]
STRIP = "-s -w"


class BuildError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[k8s-bins] {msg}", file=sys.stderr, flush=True)


def version_tuple(text: str) -> tuple[int, ...]:
    match = re.match(r"^(?:go)?v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        raise BuildError(f"not a version: {text!r}")
    return tuple(int(part or 0) for part in match.groups())


def run(argv: list[str], cwd: Path | None = None, env: dict | None = None, capture: bool = True) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, text=True, check=False,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)
    if proc.returncode != 0:
        detail = (proc.stderr or "").strip()[-4000:] if capture else ""
        raise BuildError(f"{' '.join(argv)} failed with rc {proc.returncode}\n{detail}")
    return proc.stdout if capture else ""


def go_env(toolchain: str) -> dict:
    env = dict(os.environ)
    env.update(GO_ENV)
    env["GOTOOLCHAIN"] = toolchain
    return env


def toolchain_for(required_go: str) -> str:
    """`local` when the machine's Go is new enough for the release, else the approved newer toolchain."""
    env = dict(os.environ, GOTOOLCHAIN="local")
    local = run(["go", "env", "GOVERSION"], env=env).strip()
    return "local" if version_tuple(local) >= version_tuple(required_go) else FALLBACK_TOOLCHAIN


def module_info(module: str, version: str, env: dict) -> dict:
    """`go mod download -json` of one module version: its go.mod path, zip and publication time."""
    with tempfile.TemporaryDirectory() as scratch:
        # outside any module, so the download is by name alone
        out = run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=Path(scratch), env=env)
    info = json.loads(out)
    if info.get("Error"):
        raise BuildError(f"{module}@{version}: {info['Error']}")
    info["Time"] = json.loads(Path(info["Info"]).read_text()).get("Time", "")
    return info


def go_mod_json(path: str, env: dict) -> dict:
    return json.loads(run(["go", "mod", "edit", "-json", path], env=env))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recipe_key(recipe: dict) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


@contextlib.contextmanager
def cache_lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def write_wrapper(work: Path, requires: dict[str, str], replaces: dict[str, str], go: str, godebug: list,
                  packages: list[str], env: dict) -> None:
    """A throwaway main module that requires the release and imports the commands, so `go mod tidy` records
    every dependency the commands need (and nothing else)."""
    work.mkdir(parents=True)
    run(["go", "mod", "init", "example.invalid/sck8s-testbed-build"], cwd=work, env=env)
    edits = [f"-go={go}"]
    edits += [f"-godebug={item['Key']}={item['Value']}" for item in godebug]
    edits += [f"-require={path}@{version}" for path, version in sorted(requires.items())]
    edits += [f"-replace={path}={path}@{version}" for path, version in sorted(replaces.items())]
    run(["go", "mod", "edit", *edits], cwd=work, env=env)
    imports = "\n".join(f'\t_ "{pkg}"' for pkg in packages)
    (work / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n")
    run(["go", "mod", "tidy"], cwd=work, env=env)


def build_binaries(work: Path, out: Path, targets: dict[str, str], ldflags: str, env: dict,
                   version_check) -> dict:
    record = {"seconds": {}, "bytes": {}}
    out.mkdir(parents=True)
    for name, package in targets.items():
        start = time.monotonic()
        log(f"go build {package} -> {name}")
        run(["go", "build", *BUILD_FLAGS, "-ldflags", ldflags, "-o", str(out / name), package], cwd=work, env=env)
        record["seconds"][name] = round(time.monotonic() - start, 1)
        record["bytes"][name] = (out / name).stat().st_size
        version_check(name, out / name)
    return record


def land(tmp: Path, final: Path, record: dict, recipe: dict, start: float, **extra) -> None:
    """Record the build next to its binaries, drop the wrapper module and move the build into place in one
    rename: a directory with a build-info.json is always complete."""
    record.update(recipe=recipe, total_seconds=round(time.monotonic() - start, 1),
                  built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  sha256={path.name: sha256_file(path) for path in sorted((tmp / "bin").iterdir())}, **extra)
    (tmp / "build-info.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(tmp / "src")
    os.rename(tmp, final)


def kubernetes_recipe(version: str, toolchain: str, go_version: str) -> dict:
    return {"what": "kubernetes", "version": version, "revision": RECIPE_REVISION, "toolchain": toolchain,
            "go": go_version, "env": GO_ENV, "flags": BUILD_FLAGS, "strip": STRIP,
            "components": list(K8S_COMPONENTS)}


def k8s_ldflags(version: str, published: str, minor_number: str) -> str:
    # The variables hack/lib/version.sh stamps; the module zip carries no commit, so gitCommit stays unset.
    stamps = {"gitVersion": f"v{version}", "gitMajor": "1", "gitMinor": minor_number, "gitTreeState": "clean",
              "buildDate": published}
    flags = [STRIP]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{key}={value}" for key, value in stamps.items()]
    return " ".join(flags)


def check_k8s_version(version: str):
    def check(name: str, path: Path) -> None:
        argv = [str(path), "version", "-o", "short"] if name in ("kubeadm",) else [str(path), "--version"]
        if name == "kubectl":
            argv = [str(path), "version", "--client", "-o", "json"]
        out = run(argv)
        if f"v{version}" not in out:
            raise BuildError(f"{name} does not report v{version}: {out.strip()[:200]}")
    return check


def build_kubernetes(version: str) -> Path:
    env = go_env("local")
    info = module_info("k8s.io/kubernetes", f"v{version}", env)
    upstream = go_mod_json(info["GoMod"], env)
    toolchain = toolchain_for(upstream["Go"])
    env = go_env(toolchain)
    go_version = run(["go", "env", "GOVERSION"], env=env).strip()
    recipe = kubernetes_recipe(version, toolchain, go_version)
    final = CACHE / f"kubernetes-v{version}-{recipe_key(recipe)}"
    if (final / "build-info.json").is_file():
        return final
    minor_number = version.split(".")[1]
    staging = {item["Old"]["Path"]: f"v0.{minor_number}.{version.split('.')[2]}"
               for item in upstream.get("Replace") or [] if item["Old"]["Path"].startswith("k8s.io/")}
    if not staging:
        raise BuildError(f"k8s.io/kubernetes v{version}: its go.mod replaces no staging module")
    log(f"building Kubernetes v{version} with {go_version} ({len(staging)} staging modules at "
        f"v0.{minor_number}.x) into {final}")
    tmp = Path(tempfile.mkdtemp(prefix=f".build-v{version}-", dir=CACHE))
    try:
        start = time.monotonic()
        packages = [f"k8s.io/kubernetes/cmd/{name}" for name in K8S_COMPONENTS]
        write_wrapper(tmp / "src", {"k8s.io/kubernetes": f"v{version}"}, staging, upstream["Go"],
                      upstream.get("GoDebug") or [], packages, env)
        record = build_binaries(tmp / "src", tmp / "bin", dict(zip(K8S_COMPONENTS, packages)),
                                k8s_ldflags(version, info["Time"], minor_number), env, check_k8s_version(version))
        land(tmp, final, record, recipe, start, go_mod=(tmp / "src" / "go.mod").read_text())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"Kubernetes v{version}: {record['total_seconds']} s")
    return final


def kubeadm_etcd_version(kubernetes_dir: Path, version: str) -> str:
    """The etcd kubeadm of that release deploys: the tag of its etcd image, without the image revision."""
    out = run([str(kubernetes_dir / "bin/kubeadm"), "config", "images", "list", "--kubernetes-version",
               f"v{version}"])
    for image in out.split():
        repo, tag = image.rsplit(":", 1)
        if repo.endswith("/etcd"):
            return tag.split("-")[0]
    raise BuildError(f"kubeadm v{version} lists no etcd image:\n{out}")


def build_etcd(version: str) -> Path:
    env = go_env("local")
    infos = {name: module_info(module, f"v{version}", env) for name, module in ETCD_COMPONENTS.items()}
    required = max((go_mod_json(info["GoMod"], env)["Go"] for info in infos.values()), key=version_tuple)
    toolchain = toolchain_for(required)
    env = go_env(toolchain)
    go_version = run(["go", "env", "GOVERSION"], env=env).strip()
    recipe = {"what": "etcd", "version": version, "revision": RECIPE_REVISION, "toolchain": toolchain,
              "go": go_version, "env": GO_ENV, "flags": BUILD_FLAGS, "strip": STRIP,
              "components": list(ETCD_COMPONENTS)}
    final = CACHE / f"etcd-v{version}-{recipe_key(recipe)}"
    if (final / "build-info.json").is_file():
        return final
    log(f"building etcd v{version} with {go_version} into {final}")
    tmp = Path(tempfile.mkdtemp(prefix=f".build-etcd-v{version}-", dir=CACHE))

    def check(name: str, path: Path) -> None:
        out = run([str(path), "--version"] if name == "etcd" else [str(path), "version"])
        if version not in out:
            raise BuildError(f"{name} does not report {version}: {out.strip()[:200]}")

    try:
        start = time.monotonic()
        write_wrapper(tmp / "src", {module: f"v{version}" for module in ETCD_COMPONENTS.values()}, {}, required, [],
                      list(ETCD_COMPONENTS.values()), env)
        record = build_binaries(tmp / "src", tmp / "bin", dict(ETCD_COMPONENTS), STRIP, env, check)
        land(tmp, final, record, recipe, start)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"etcd v{version}: {record['total_seconds']} s")
    return final


def release_record_path(minor: str) -> Path:
    return CACHE / f"release-{minor}.json"


def build_minor(minor: str) -> dict:
    version = RELEASES["kubernetes"].get(minor)
    if version is None:
        raise BuildError(f"no release of Kubernetes {minor} in releases.json (supported: "
                         f"{', '.join(RELEASES['kubernetes'])})")
    k8s_dir = build_kubernetes(version)
    etcd_version = kubeadm_etcd_version(k8s_dir, version)
    etcd_dir = build_etcd(etcd_version)
    record = {"minor": minor, "kubernetes_version": version, "etcd_version": etcd_version,
              "kubernetes_dir": str(k8s_dir), "etcd_dir": str(etcd_dir)}
    path = release_record_path(minor)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return record


def built(minor: str) -> dict | None:
    """The release record of a minor whose binaries are in the cache and match releases.json, else None."""
    path = release_record_path(minor)
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("kubernetes_version") != RELEASES["kubernetes"].get(minor):
        return None
    for key in ("kubernetes_dir", "etcd_dir"):
        if not (Path(record[key]) / "build-info.json").is_file():
            return None
    return record


def stage(record: dict, dest: Path) -> None:
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    for key in ("kubernetes_dir", "etcd_dir"):
        for binary in sorted((Path(record[key]) / "bin").iterdir()):
            target = dest / "bin" / binary.name
            target.unlink(missing_ok=True)
            try:
                os.link(binary, target)
            except OSError:  # another file system
                shutil.copy2(binary, target)
    (dest / "release.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def select_minors(args: list[str]) -> list[str]:
    if not args:
        env_minors = os.environ.get("K8S_BIN_MINORS", "").split()
        return env_minors or list(RELEASES["ci_minors"])
    if args == ["all"]:
        return list(RELEASES["kubernetes"])
    return args


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "stage", "info"):
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    try:
        if command == "build":
            with cache_lock():
                for minor in select_minors(args):
                    record = build_minor(minor)
                    log(f"{minor}: Kubernetes v{record['kubernetes_version']}, etcd v{record['etcd_version']}")
            return 0
        if command == "stage":
            if len(args) != 2:
                print(__doc__, file=sys.stderr)
                return 2
            record = built(args[0])
            if record is None:
                log(f"Kubernetes {args[0]} is not built: run `make k8s-bins K8S_BIN_MINORS={args[0]}`")
                return 1
            stage(record, Path(args[1]))
            return 0
        records = []
        for minor in select_minors(args):
            record = built(minor)
            if record:
                for key in ("kubernetes", "etcd"):
                    info = json.loads((Path(record[f"{key}_dir"]) / "build-info.json").read_text())
                    info.pop("go_mod", None)
                    record[f"{key}_build"] = info
                records.append(record)
        print(json.dumps(records, indent=2, sort_keys=True))
        return 0
    except BuildError as exc:
        log(f"ERROR: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
