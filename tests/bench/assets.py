"""Lambda asset size per function, from the synthesized cloud assembly.

Synthesizes the app once (cdk-nag runs; infra/constructs/bundling.py builds the
asset, reusing its dependency cache in .cache/), keeps the template for the other
sections, and measures each function's asset directory as CDK will zip it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

from tests.bench.aws import BASE_ENV

os.environ.update(BASE_ENV)

from tests.bench.sections import ROOT, section_main

_RUNTIME_PACKAGES = ("boto3", "botocore")


def _files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def sizes(directory: Path) -> dict[str, Any]:
    """Unzipped and zipped (deflate, as CDK zips assets) bytes, and runtime packages found."""
    files = _files(directory)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(directory))
    top = {path.relative_to(directory).parts[0] for path in files}
    return {
        "unzipped": sum(path.stat().st_size for path in files),
        "zipped": buffer.tell(),
        "files": len(files),
        "runtime_packages": sorted(name for name in top if name.split("-")[0] in _RUNTIME_PACKAGES),
    }


def measure(workdir: Path) -> dict[str, Any]:
    from infra.app import build_app

    outdir = workdir / "cdk.out"
    shutil.rmtree(outdir, ignore_errors=True)
    app, stack = build_app(outdir=str(outdir))
    app.synth()
    template_path = outdir / f"{stack.stack_name}.template.json"
    template = json.loads(template_path.read_text())
    shutil.copy(template_path, workdir / "template.json")
    functions: dict[str, Any] = {}
    measured: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        key = properties["Code"]["S3Key"].removesuffix(".zip")
        if key not in measured:
            measured[key] = sizes(outdir / f"asset.{key}")
        functions[logical_id] = {
            "handler": properties.get("Handler"),
            "memory_mb": properties.get("MemorySize", 128),
            "asset": key,
            **measured[key],
        }
    source = [p for p in _files(ROOT / "functions") if "__pycache__" not in p.parts]
    return {
        "functions": functions,
        "distinct_assets": len(measured),
        "source_bytes": sum(path.stat().st_size for path in source),
    }


if __name__ == "__main__":
    section_main("assets", measure)
