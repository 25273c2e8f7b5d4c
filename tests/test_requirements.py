"""requirements.txt gives every platform exactly one torch, and the right one.

Streamlit Community Cloud (Linux x86-64, Python 3.12 or 3.13) must get PyTorch's CPU-only wheel by
URL: PyPI's wheel there pulls ~2.5 GB of CUDA libraries onto a machine with 1-3 GB of memory.
Everywhere else the plain pin ``torch==2.13.0`` applies. These tests evaluate the file's environment
markers for each target, the way pip and uv do, without installing anything.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu/"


def read_requirements(path: Path) -> tuple[list[Requirement], list[str]]:
    """The requirement lines of a pip requirements file, and its option lines (``-r ...``).

    A ``#`` starts a comment only at the start of a line or after whitespace, as in pip: the
    ``#sha256=`` fragment of a URL is part of the requirement.
    """
    requirements, options = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        if line.startswith("-"):
            options.append(line)
        else:
            requirements.append(Requirement(line))
    return requirements, options


RUNTIME, RUNTIME_OPTIONS = read_requirements(ROOT / "requirements.txt")
DEV, DEV_OPTIONS = read_requirements(ROOT / "requirements-dev.txt")


def environment(sys_platform: str, machine: str, python: str) -> dict[str, str]:
    """A full PEP 508 marker environment for CPython ``python`` (e.g. "3.12.7") on one platform."""
    system, os_name = {"linux": ("Linux", "posix"), "darwin": ("Darwin", "posix"), "win32": ("Windows", "nt")}[
        sys_platform
    ]
    return {
        "implementation_name": "cpython",
        "implementation_version": python,
        "os_name": os_name,
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": python,
        "python_version": ".".join(python.split(".")[:2]),
        "sys_platform": sys_platform,
    }


def applicable(requirements: list[Requirement], env: dict[str, str], name: str) -> list[Requirement]:
    return [
        r for r in requirements if canonicalize_name(r.name) == name and (r.marker is None or r.marker.evaluate(env))
    ]


def pinned_version(requirement: Requirement) -> str:
    (spec,) = requirement.specifier
    assert spec.operator == "==" and "*" not in spec.version, f"{requirement} is not pinned with =="
    return spec.version


def torch_pin() -> str:
    """The version of the plain ``torch==`` line: the one every torch line must agree with."""
    (plain,) = [r for r in RUNTIME if r.name == "torch" and r.url is None]
    return pinned_version(plain)


# (sys_platform, platform_machine, python_full_version, expected torch: a cp tag for the CPU wheel, or None)
TARGETS = [
    # Linux x86-64: the CPU wheel by URL where PyTorch publishes one for a supported Python, except 3.11 (this
    # machine's Python: its install takes the local CPU build; elsewhere the README gives the CPU command).
    ("linux", "x86_64", "3.11.7", None),
    ("linux", "x86_64", "3.12.7", "cp312"),  # Streamlit Community Cloud's default
    ("linux", "x86_64", "3.13.1", "cp313"),
    ("linux", "x86_64", "3.14.0", "cp314"),
    # Every other platform takes the plain pin from the ordinary index, on every supported Python.
    *[
        (p, m, v, None)
        for p, m in (("darwin", "arm64"), ("win32", "AMD64"), ("linux", "aarch64"))
        for v in ("3.11.7", "3.12.7", "3.13.1", "3.14.0")
    ],
]


@pytest.mark.parametrize(("platform", "machine", "python", "cp_tag"), TARGETS)
def test_each_target_gets_exactly_the_expected_torch(platform, machine, python, cp_tag):
    env = environment(platform, machine, python)
    found = applicable(RUNTIME, env, "torch")
    assert len(found) == 1, f"{platform}/{machine}/{python}: torch lines {[str(r) for r in found]}"
    (torch,) = found
    if cp_tag is None:
        assert torch.url is None
        assert str(torch.specifier) == f"=={torch_pin()}"
    else:
        assert torch.url is not None and torch.url.startswith(CPU_INDEX)
        filename = unquote(urlsplit(torch.url).path.rsplit("/", 1)[1])
        assert filename == f"torch-{torch_pin()}+cpu-{cp_tag}-{cp_tag}-manylinux_2_28_x86_64.whl"


@pytest.mark.parametrize("machine", ["x86_64", "aarch64", "arm64", "AMD64", "ARM64"])
@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
@pytest.mark.parametrize("python", ["3.11.0", "3.12.0", "3.13.0", "3.14.0", "3.15.0"])
def test_every_project_has_exactly_one_line_anywhere(platform, machine, python):
    """The torch markers are mutually exclusive and together cover every environment."""
    env = environment(platform, machine, python)
    for name in {canonicalize_name(r.name) for r in RUNTIME}:
        found = applicable(RUNTIME, env, name)
        assert len(found) == 1, f"{name} on {platform}/{machine}/{python}: {[str(r) for r in found]}"


def test_cpu_wheel_urls_match_their_markers_version_and_hash():
    urls = [r for r in RUNTIME if r.url is not None]
    assert urls, "no CPU wheel URL: Streamlit Community Cloud would install the CUDA build"
    for requirement in urls:
        assert requirement.name == "torch"
        parts = urlsplit(requirement.url)
        assert requirement.url.startswith(CPU_INDEX) and parts.scheme == "https"
        assert re.fullmatch(r"sha256=[0-9a-f]{64}", parts.fragment), "the download should be hash-checked"
        filename = unquote(parts.path.rsplit("/", 1)[1])
        name, version, _build, tags = parse_wheel_filename(filename)
        assert name == "torch"
        assert version.public == torch_pin() and version.local == "cpu"
        (tag,) = tags
        assert tag.platform == "manylinux_2_28_x86_64" and tag.interpreter == tag.abi
        python = f"{tag.interpreter[2]}.{tag.interpreter[3:]}"  # cp313 -> 3.13
        # The marker admits exactly the Python and platform that the wheel's tag names.
        assert requirement.marker is not None
        assert requirement.marker.evaluate(environment("linux", "x86_64", python + ".0"))
        assert not requirement.marker.evaluate(environment("linux", "aarch64", python + ".0"))
        assert not requirement.marker.evaluate(environment("linux", "x86_64", f"3.{int(python[2:]) + 1}.0"))


def test_runtime_file_is_plain_and_pinned():
    assert RUNTIME_OPTIONS == [], "keep requirements.txt free of pip options: uv and Streamlit Cloud read it too"
    for requirement in RUNTIME:
        if requirement.url is None:
            pinned_version(requirement)


def test_dev_file_adds_pinned_tools_to_the_runtime_file():
    assert DEV_OPTIONS == ["-r requirements.txt"]
    runtime_names = {canonicalize_name(r.name) for r in RUNTIME}
    for requirement in DEV:
        assert requirement.url is None and requirement.marker is None
        pinned_version(requirement)
        assert canonicalize_name(requirement.name) not in runtime_names, f"{requirement.name} is pinned twice"


def test_this_environment_has_the_pinned_versions():
    """The venv the tests run in was installed from these files (a stale venv fails here first)."""
    stale = []
    for requirement in RUNTIME + DEV:
        if requirement.marker is not None and not requirement.marker.evaluate():  # the running interpreter
            continue
        installed = Version(metadata.version(requirement.name))
        wanted = torch_pin() if requirement.url is not None else pinned_version(requirement)
        if installed.public != Version(wanted).public:
            stale.append(f"{requirement.name} {installed} (wanted {wanted})")
    assert not stale, "reinstall with pip install -r requirements-dev.txt: " + ", ".join(stale)
