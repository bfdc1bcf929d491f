"""The landing area: a local folder or an S3 prefix, laid out as <study_id>/<feed>/<file>.

Loaded files move to the archive, rejected ones to quarantine with a reason file beside
them; whatever is still in the landing area is waiting.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hhp.config import Settings

REASON_SUFFIX = ".reason.txt"
NAME_BYTES = 255  # what a file system allows one name
KEY_BYTES = 1024  # what S3 allows a key


def fitted(name: str, ending: str, limit: int = NAME_BYTES) -> str:
    """name + ending, the name cut (at a character) so that both fit in limit bytes: a
    partner's long name still gets its reason file and its re-sent variant."""
    room = limit - len(ending.encode("utf-8"))
    return name.encode("utf-8")[:room].decode("utf-8", "ignore") + ending


def variant(key: str, sha256: str) -> str:
    """The key (or name) a re-sent file with new content is kept under, beside the first."""
    folder, slash, name = key.rpartition("/")
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    return folder + slash + fitted(stem, f".{sha256[:12]}{dot}{suffix}")


def local_name(key: str) -> str:
    """A name of ours for a downloaded copy (a partner's name may be too long or hold glob
    characters); the extension kept where it is plain."""
    suffix = Path(key).suffix
    return "landed" + (suffix if suffix[1:].isalnum() else "")


@dataclass(frozen=True)
class LandedFile:
    key: str  # <study_id>/<feed>/<file name>, relative to the landing root
    size: int

    @property
    def parts(self) -> list[str]:
        return self.key.split("/")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def files_under(paths: list[Path]) -> Iterator[tuple[Path, str]]:
    """(file, key) for each file to land: a file's study and feed are its two parent folders."""
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files = [path]
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
        for file in files:
            yield file, "/".join(file.resolve().parts[-3:])


class LocalLanding:
    def __init__(self, root: str, archive: str, quarantine: str):
        self.root, self.archive_root, self.quarantine_root = Path(root), Path(archive), Path(quarantine)

    def put(self, source: Path, key: str) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        # copy under a hidden name, then rename: a half-copied file is never seen as landed
        partial = target.with_name(fitted(f".{target.name}", ".partial"))
        shutil.copyfile(source, partial)
        os.replace(partial, target)

    @staticmethod
    def _keys(root: Path) -> list[str]:
        if not root.exists():
            return []
        return [
            p.relative_to(root).as_posix()
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(REASON_SUFFIX)
        ]

    def list(self) -> list[LandedFile]:
        return [LandedFile(key, (self.root / key).stat().st_size) for key in self._keys(self.root)]

    def archived(self) -> list[str]:
        return self._keys(self.archive_root)

    def quarantined(self) -> list[str]:
        return self._keys(self.quarantine_root)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self.root / key

    def _archived_path(self, key: str, sha256: str | None, landed: str) -> Path:
        plain = self.archive_root / key
        # a re-sent name with new content is archived beside the first, named by what landed
        for path in (plain.with_name(variant(plain.name, landed)), plain):
            if path.is_file() and (sha256 is None or sha256_of(path) == sha256):
                return path
        raise FileNotFoundError(f"{key} (sha256 {(sha256 or landed)[:12]}) is not in the archive")

    @contextmanager
    def archived_copy(self, key: str, sha256: str | None, landed: str | None = None) -> Iterator[Path]:
        """The archived file with this key and content (None: whatever it holds now); `landed`
        is the content it landed with, if it was rewritten since (ledger.archived_sha256)."""
        yield self._archived_path(key, sha256, landed or sha256)

    def replace_archived(self, key: str, landed: str, current: str, new_file: Path) -> None:
        """Put `new_file` in the archive in place of the file that landed as `landed` (holding
        `current` now): nothing of the old content is left."""
        path = self._archived_path(key, current, landed)
        os.replace(new_file, path)

    def _move(self, key: str, root: Path, sha256: str) -> Path:
        target = root / key
        if target.exists() and sha256_of(target) != sha256:  # a re-sent name with new content
            target = target.with_name(variant(target.name, sha256))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.root / key, target)
        return target

    def archive(self, key: str, sha256: str) -> None:
        self._move(key, self.archive_root, sha256)

    def discard(self, key: str) -> None:
        """Remove a landed file the archive already holds (rewritten since: see ingest.erasure)."""
        (self.root / key).unlink()

    def quarantine(self, key: str, sha256: str, reason: str) -> None:
        target = self._move(key, self.quarantine_root, sha256)
        target.with_name(fitted(target.name, REASON_SUFFIX)).write_text(reason + "\n", encoding="utf-8")

    def release(self, key: str, sha256: str) -> None:
        """Move the quarantined file with this key and content back to the landing area."""
        target = self.root / key
        if target.exists():
            raise FileExistsError(f"{key}: a file is already waiting under this key in the landing area")
        plain = self.quarantine_root / key
        for path in (plain, plain.with_name(variant(plain.name, sha256))):
            if path.is_file() and not path.is_symlink() and sha256_of(path) == sha256:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                path.with_name(fitted(path.name, REASON_SUFFIX)).unlink(missing_ok=True)
                return
        raise FileNotFoundError(f"{key} (sha256 {sha256[:12]}) is not in quarantine")


class S3Landing:
    """The same operations on S3 (or any S3 endpoint: AWS_ENDPOINT_URL is honoured by boto3)."""

    def __init__(self, root: str, archive: str, quarantine: str):
        import boto3

        self.s3 = boto3.client("s3")
        self.bucket, self.prefix = self._split(root)
        self.archive_bucket, self.archive_prefix = self._split(archive)
        self.quarantine_bucket, self.quarantine_prefix = self._split(quarantine)

    @staticmethod
    def _split(url: str) -> tuple[str, str]:
        bucket, _, prefix = url[len("s3://") :].partition("/")
        return bucket, prefix.strip("/")

    def _object(self, prefix: str, key: str) -> str:
        return f"{prefix}/{key}" if prefix else key

    def put(self, source: Path, key: str) -> None:
        self.s3.upload_file(str(source), self.bucket, self._object(self.prefix, key))

    def _objects(self, bucket: str, prefix: str) -> list[LandedFile]:
        out = []
        start = f"{prefix}/" if prefix else ""
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=start):
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith(REASON_SUFFIX):
                    out.append(LandedFile(obj["Key"][len(start) :], obj["Size"]))
        return sorted(out, key=lambda f: f.key)

    def list(self) -> list[LandedFile]:
        return self._objects(self.bucket, self.prefix)

    def archived(self) -> list[str]:
        return [f.key for f in self._objects(self.archive_bucket, self.archive_prefix)]

    def quarantined(self) -> list[str]:
        return [f.key for f in self._objects(self.quarantine_bucket, self.quarantine_prefix)]

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="hhp-landing-") as tmp:
            path = Path(tmp) / local_name(key)
            self.s3.download_file(self.bucket, self._object(self.prefix, key), str(path))
            yield path

    def _archived_name(self, key: str, sha256: str | None, landed: str) -> str:
        plain = self._object(self.archive_prefix, key)
        for name in (variant(plain, landed), plain):
            head = self._exists(self.archive_bucket, name)
            if head and (sha256 is None or head["Metadata"].get("sha256") == sha256):
                return name
        raise FileNotFoundError(f"{key} (sha256 {(sha256 or landed)[:12]}) is not in the archive")

    @contextmanager
    def archived_copy(self, key: str, sha256: str | None, landed: str | None = None) -> Iterator[Path]:
        """The archived object with this key and content (None: whatever it holds now), downloaded
        to a temporary file; `landed` is the content it landed with, if rewritten since."""
        name = self._archived_name(key, sha256, landed or sha256)
        with tempfile.TemporaryDirectory(prefix="hhp-archive-") as tmp:
            path = Path(tmp) / local_name(key)
            self.s3.download_file(self.archive_bucket, name, str(path))
            yield path

    def replace_archived(self, key: str, landed: str, current: str, new_file: Path) -> None:
        """Upload `new_file` in place of the object that landed as `landed` (holding `current`
        now), then delete every older version of it: in a versioned bucket the old content would
        otherwise stay readable."""
        name = self._archived_name(key, current, landed)
        new_sha = sha256_of(new_file)
        self.s3.upload_file(
            str(new_file), self.archive_bucket, name, ExtraArgs={"Metadata": {"sha256": new_sha}}
        )
        self._delete_old_versions(self.archive_bucket, name)
        # the landing bucket is versioned too: the file it moved out of stays there as an old version
        self._delete_old_versions(self.bucket, self._object(self.prefix, key))

    def _delete_old_versions(self, bucket: str, name: str) -> None:
        """Every version of the object but the current one, and every delete marker."""
        versions = self.s3.get_paginator("list_object_versions")
        for page in versions.paginate(Bucket=bucket, Prefix=name):
            for old in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if old["Key"] == name and not (old.get("IsLatest") and "ETag" in old):
                    self.s3.delete_object(Bucket=bucket, Key=name, VersionId=old["VersionId"])

    def _move(self, key: str, bucket: str, prefix: str, sha256: str) -> str:
        source = {"Bucket": self.bucket, "Key": self._object(self.prefix, key)}
        target = self._object(prefix, key)
        try:  # a re-sent name with new content keeps both versions, as in a local folder
            existing = self.s3.head_object(Bucket=bucket, Key=target)["Metadata"].get("sha256")
            if existing != sha256:
                target = variant(target, sha256)
        except self.s3.exceptions.ClientError:
            pass
        self.s3.copy_object(Bucket=bucket, Key=target, CopySource=source, MetadataDirective="REPLACE",
                            Metadata={"sha256": sha256})  # fmt: skip
        self.s3.delete_object(**source)
        return target

    def archive(self, key: str, sha256: str) -> None:
        self._move(key, self.archive_bucket, self.archive_prefix, sha256)

    def discard(self, key: str) -> None:
        """Remove a landed object the archive already holds (rewritten since: see ingest.erasure),
        its older versions too."""
        name = self._object(self.prefix, key)
        self.s3.delete_object(Bucket=self.bucket, Key=name)
        self._delete_old_versions(self.bucket, name)

    def quarantine(self, key: str, sha256: str, reason: str) -> None:
        target = self._move(key, self.quarantine_bucket, self.quarantine_prefix, sha256)
        self.s3.put_object(
            Bucket=self.quarantine_bucket,
            Key=fitted(target, REASON_SUFFIX, KEY_BYTES),
            Body=(reason + "\n").encode("utf-8"),
        )

    def _exists(self, bucket: str, name: str) -> dict | None:
        """The object's head, or None if there is none (a refusal or outage is an error)."""
        try:
            return self.s3.head_object(Bucket=bucket, Key=name)
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def release(self, key: str, sha256: str) -> None:
        """Copy the quarantined object with this key and content back to the landing prefix
        (boto3's managed copy: multipart above its threshold), then delete it and its reason."""
        target = self._object(self.prefix, key)
        if self._exists(self.bucket, target):
            raise FileExistsError(f"{key}: a file is already waiting under this key in the landing area")
        plain = self._object(self.quarantine_prefix, key)
        for name in (plain, variant(plain, sha256)):
            head = self._exists(self.quarantine_bucket, name)
            if head and head["Metadata"].get("sha256") == sha256:
                self.s3.copy({"Bucket": self.quarantine_bucket, "Key": name}, self.bucket, target)
                self.s3.delete_object(Bucket=self.quarantine_bucket, Key=name)
                self.s3.delete_object(
                    Bucket=self.quarantine_bucket, Key=fitted(name, REASON_SUFFIX, KEY_BYTES)
                )
                return
        raise FileNotFoundError(f"{key} (sha256 {sha256[:12]}) is not in quarantine")


def open_landing(settings: Settings) -> LocalLanding | S3Landing:
    cls = S3Landing if settings.landing.startswith("s3://") else LocalLanding
    return cls(settings.landing, settings.archive, settings.quarantine)
