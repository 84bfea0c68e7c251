"""Download a published checkpoint listed in weights/manifest.json and check its size and sha256.

    python weights/fetch.py pathnet_model_v2.h5 [--dest weights/] [--force]

The file is streamed to a temporary name beside the destination (progress bar on stderr) and
renamed only when the size and sha256 match the manifest. When the manifest does not know the
sha256 yet, the first successful download records it (and the size), so later downloads are
checked against it. Without network the script stops at once with one line saying where to
download the file by hand and where to put it (exit status 2).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(HERE.parent))

from data_prep.errors import (  # noqa: E402
    InputError,
    atomic_path,
    atomic_write_text,
    check_writable,
    run_cli,
)

MANIFEST = HERE / "manifest.json"
CHUNK = 1 << 20
NETWORK_ERRORS = (OSError, ValueError, http.client.HTTPException)  # URLError is an OSError


def load_manifest(path: str | Path = MANIFEST) -> dict:
    """Read the manifest: {"format_version": 1, "files": [{name, url, size_bytes, sha256, ...}]}."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the manifest ({err})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise InputError(f"{path}: not a weights manifest (no 'files' list)")
    return manifest


def find_entry(manifest: dict, name: str, path: str | Path = MANIFEST) -> dict:
    """The manifest entry called ``name``; InputError listing the known names otherwise."""
    for entry in manifest["files"]:
        if entry.get("name") == name:
            return entry
    known = ", ".join(str(e.get("name")) for e in manifest["files"])
    raise InputError(f"{path}: no file named {name!r} (known: {known})")


def _reason(err: BaseException) -> str:
    """A one-line reason for a network error."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    return " ".join(str(getattr(err, "reason", None) or err or type(err).__name__).split())


def _progress(done: int, total: int | None) -> None:
    """Draw the progress bar on stderr."""
    mb = done / 1e6
    if total:
        filled = int(30 * done / total)
        line = f"\r  [{'#' * filled}{'.' * (30 - filled)}] {100 * done / total:5.1f}% " \
               f"{mb:7.1f}/{total / 1e6:.1f} MB"
    else:
        line = f"\r  {mb:7.1f} MB"
    print(line, end="", file=sys.stderr, flush=True)


def download(
    url: str,
    dest: str | Path,
    size: int | None = None,
    sha256: str | None = None,
    force: bool = False,
    timeout: float = 10.0,
    progress: bool = True,
) -> tuple[int, str]:
    """Stream ``url`` to ``dest`` atomically, checking ``size``/``sha256`` when given.

    Returns (bytes, sha256 hex). Nothing is written when the download fails or a check fails.
    """
    dest = check_writable(dest, force)
    hint = f"download it by hand from {url} and save it as {dest}"
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except NETWORK_ERRORS as err:
        raise InputError(f"{dest}: cannot download ({_reason(err)}); {hint}") from None
    if progress:
        print(f"downloading {url} -> {dest}", file=sys.stderr)
    digest, done = hashlib.sha256(), 0
    with response, atomic_path(dest, force) as tmp, open(tmp, "wb") as out:
        header = response.headers.get("Content-Length") if response.headers else None
        total = size or (int(header) if header and header.isdigit() else None)
        shown = -1
        while True:
            try:
                chunk = response.read(CHUNK)
            except NETWORK_ERRORS as err:
                raise InputError(f"{dest}: download interrupted ({_reason(err)}); {hint}") from None
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            step = int(1000 * done / total) if total else done // CHUNK
            if progress and step != shown:
                _progress(done, total)
                shown = step
        if progress:
            print(file=sys.stderr)
        if size is not None and done != size:
            raise InputError(f"{dest}: downloaded {done} bytes but the manifest says {size}; "
                             "nothing kept")
        if sha256 and digest.hexdigest() != sha256.lower():
            raise InputError(f"{dest}: sha256 {digest.hexdigest()} does not match the manifest's "
                             f"{sha256}; nothing kept")
    return done, digest.hexdigest()


def record_checksum(manifest_path: str | Path, name: str, size: int, digest: str) -> None:
    """Write the first download's sha256 (and size, if unknown) into the manifest atomically."""
    manifest = load_manifest(manifest_path)
    entry = find_entry(manifest, name, manifest_path)
    entry["sha256"] = digest
    entry["sha256_note"] = f"recorded on first successful download ({datetime.date.today()})"
    if entry.get("size_bytes") is None:
        entry["size_bytes"] = size
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2) + "\n", force=True)


def main(argv: list[str] | None = None) -> int:
    """Download one manifest file into --dest, verified."""
    parser = argparse.ArgumentParser(
        prog="python weights/fetch.py",
        description="Download a published checkpoint listed in weights/manifest.json, "
        "verifying its size and sha256 (the first download records the sha256).",
    )
    parser.add_argument("name", help="file name in the manifest, e.g. pathnet_model_v2.h5")
    parser.add_argument("--dest", default=str(HERE), help="folder to save into (default: weights/)")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument("--manifest", default=str(MANIFEST), help="manifest to read and update")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the server before giving up (default 10)")
    args = parser.parse_args(argv)
    manifest = load_manifest(args.manifest)
    entry = find_entry(manifest, args.name, args.manifest)
    dest = Path(args.dest) / args.name
    size, sha = entry.get("size_bytes"), entry.get("sha256")
    done, digest = download(entry["url"], dest, size, sha, args.force, args.timeout)
    if sha is None:
        record_checksum(args.manifest, args.name, done, digest)
        print(f"recorded sha256 {digest} in {args.manifest}")
    print(f"saved {dest} ({done:,} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
