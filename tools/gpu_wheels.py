"""Wheels for a GPU machine that has its own CUDA torch but no network (`make gpu-wheels`).

Usage:
    python -m tools.gpu_wheels download DIR          # here, where pip reaches the index
    python -m tools.gpu_wheels install DIR TARGET    # there: installs the wheels it lacks

`download` fetches, for CPython 3.12 on manylinux x86_64, the packages that `make gpu-run`
needs and that such a machine lacks (the notebook runner, the kernel, the chapters' extra
libraries), then follows their Requires-Dist until nothing is missing, so the folder installs
with `pip install --no-index --no-deps`. Versions come from constraints.txt (what CI tests);
a package with no wheel on the index (flashtorch) is built into one here. Packages the machine
already has (its torch above all) are never fetched.

`install` runs there with nothing but the standard library and pip: it installs, into TARGET,
each wheel whose distribution the running interpreter does not already have.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What `make gpu-run` imports that a GPU image may lack. The book's own `helpers` package
# is not among them: gpu_run puts the checkout on PYTHONPATH.
WANTED = [
    "nbclient",
    "nbformat",
    "jupyter_client",
    "ipykernel",
    "nbval",
    "grad-cam",
    "flashtorch",
    "torchinfo",
]

# The image we expect (the device's KINDS.md: "Python packages already there"). Never fetched.
PRESENT = """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build
certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings
cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils
execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py
hf-xet httpcore httpx huggingface-hub humanize hypothesis idna imageio iniconfig interface-meta jax
jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning
lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions
nanobind narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti
nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand
nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink
nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax
opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip
pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock
pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu
safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece
sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy
tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm
transformers treescope triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig
werkzeug wheel wrapt xarray xxhash yarl zipp
""".split()

# A need that another installed distribution satisfies: grad-cam asks for opencv-python, whose
# `cv2` the image's opencv-python-headless already provides (installing both breaks cv2).
PROVIDED_BY = {"opencv-python": "opencv-python-headless"}

# The target: CPython 3.12 on manylinux x86_64 (the device README's `pip download` recipe).
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64"]
PLATFORMS += ["manylinux2014_x86_64", "manylinux1_x86_64", "manylinux_2_34_x86_64", "manylinux_2_31_x86_64"]
MARKER_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}


def normalize(name: str) -> str:
    """Return a distribution name in its canonical form (PEP 503): `Jupyter_Client` -> `jupyter-client`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name(filename: str) -> str:
    """Return the normalized distribution name of a wheel file: `pyzmq-27.3.0-cp312-...whl` -> `pyzmq`."""
    if not filename.endswith(".whl") or filename.count("-") < 4:
        raise ValueError(f"not a wheel file name: {filename!r}")
    return normalize(filename.split("-", 1)[0])


def requires(metadata: str) -> list[tuple[str, str]]:
    """Return (name, specifier) for each Requires-Dist of a METADATA text that applies on the target.

    Extras and needs whose environment marker is false for CPython 3.12 on Linux are left out.
    """
    from packaging.requirements import Requirement  # here only (the venv has it)

    found = []
    for line in metadata.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate(MARKER_ENV):
            continue
        found.append((normalize(req.name), str(req.specifier)))
    return found


def pins(path: Path = ROOT / "constraints.txt") -> dict[str, str]:
    """Return {normalized name: version} from a pip constraints file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[normalize(name.strip())] = version.strip()
    return found


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


def fetch(name: str, spec: str, dest: Path) -> Path:
    """Download one wheel for the target (building a pure-Python one from an sdist if needed)."""
    before = set(dest.glob("*.whl"))
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    binary = ["download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", "3.12"]
    done = _pip(*binary, "--implementation", "cp", *platforms, "-d", str(dest), name + spec)
    if done.returncode != 0:  # no wheel on the index: build one from the sdist (pure Python only)
        with tempfile.TemporaryDirectory() as tmp:
            done = _pip("download", "-q", "--no-deps", "--no-binary=:all:", "-d", tmp, name + spec)
            sdists = list(Path(tmp).iterdir())
            if done.returncode == 0 and sdists:
                done = _pip("wheel", "-q", "--no-deps", "-w", str(dest), str(sdists[0]))
    new = sorted(set(dest.glob("*.whl")) - before)
    if done.returncode != 0 or len(new) != 1:
        raise SystemExit(f"gpu_wheels: could not get a wheel for {name}{spec}:\n{done.stderr[-2000:]}")
    if "-none-any" not in new[0].name and "cp312" not in new[0].name and "abi3" not in new[0].name:
        raise SystemExit(f"gpu_wheels: {new[0].name} does not install on CPython 3.12")
    return new[0]


def download(dest: Path) -> list[Path]:
    """Fill `dest` with every wheel the GPU machine lacks (WANTED and their needs); return them."""
    dest.mkdir(parents=True, exist_ok=True)
    have = {wheel_name(p.name): p for p in dest.glob("*.whl")}
    skip = {normalize(n) for n in PRESENT} | set(PROVIDED_BY)
    pinned = pins()
    queue = [(normalize(n), "") for n in WANTED]
    while queue:
        name, spec = queue.pop(0)
        if name in skip:
            continue
        if name not in have:
            wanted = f"=={pinned[name]}" if name in pinned else spec
            have[name] = fetch(name, wanted, dest)
            print(f"  {have[name].name}", flush=True)
        with zipfile.ZipFile(have[name]) as whl:
            meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
            queue += [r for r in requires(whl.read(meta).decode()) if r[0] not in have and r[0] not in skip]
        skip.add(name)  # its needs are queued: never look at it again
    wheels = sorted(dest.glob("*.whl"))
    names = [wheel_name(p.name) for p in wheels]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SystemExit(f"gpu_wheels: two versions of {', '.join(twice)} in {dest}: keep one")
    size = sum(p.stat().st_size for p in wheels) / 2**20
    print(f"{len(wheels)} wheels, {size:.1f} MiB in {dest}")
    return wheels


def missing(wheels: list[Path]) -> list[Path]:
    """Return the wheels whose distribution the running interpreter does not have."""
    found = []
    for wheel in wheels:
        name = wheel_name(wheel.name)
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            found.append(wheel)
    return found


def install(source: Path, target: Path) -> list[Path]:
    """Install into `target` (offline, no resolving) the wheels of `source` not already installed."""
    wheels = missing(sorted(source.glob("*.whl")))
    if not wheels:
        return []
    target.mkdir(parents=True, exist_ok=True)
    args = ["install", "-q", "--no-index", "--no-deps", "--no-compile", "--no-cache-dir", "--upgrade"]
    done = _pip(*args, "--target", str(target), *map(str, wheels))
    if done.returncode != 0:
        raise SystemExit(f"gpu_wheels: pip install failed:\n{done.stderr[-3000:]}")
    return wheels


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "download":
        download(Path(argv[1]))
    elif len(argv) == 3 and argv[0] == "install":
        done = install(Path(argv[1]), Path(argv[2]))
        print(f"installed {len(done)} wheels into {argv[2]}: {' '.join(wheel_name(p.name) for p in done)}")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
