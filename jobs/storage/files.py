"""Files beside the Delta tables (quality results, data docs, the check that a table exists), on the local disk or on
S3, through pyarrow's file systems: one code path for both, which is what an `s3a://` warehouse needs from the
Python side. Spark reaches the same objects through Hadoop's S3A (jobs/runtime/session.py), with the same settings.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow.fs as pafs

from jobs.runtime.settings import Login, Settings, UsageError, is_local

S3_SCHEMES = ("s3a", "s3")  # what Spark (s3a) and Trino or the AWS tools (s3) call the same objects


@dataclass(frozen=True)
class Location:
    """A folder on a file system: `path` is in the file system's own terms (an absolute local path, or
    `bucket/prefix`); `uri` is the location as the user gave it, for messages."""

    filesystem: pafs.FileSystem
    path: str
    uri: str

    def child(self, *parts: str) -> Location:
        path = "/".join([self.path.rstrip("/"), *parts])
        return Location(self.filesystem, path, "/".join([self.uri.rstrip("/"), *parts]))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def is_dir(self) -> bool:
        """A local folder, or a prefix that holds at least one object."""
        return self.filesystem.get_file_info(self.path).type == pafs.FileType.Directory

    def write_text(self, text: str) -> None:
        """Write the file at this location whole (an S3 object appears only when complete)."""
        if isinstance(self.filesystem, pafs.LocalFileSystem):
            self.filesystem.create_dir(str(Path(self.path).parent), recursive=True)
        with self.filesystem.open_output_stream(self.path) as output:
            output.write(text.encode())

    def read_text(self) -> str:
        with self.filesystem.open_input_stream(self.path) as stream:
            return stream.read().decode()

    def files(self, suffix: str = "", recursive: bool = True) -> Iterator[Location]:
        """Every file under this folder (in it only, unless `recursive`) whose name ends with `suffix`; none when the
        folder is missing."""
        selector = pafs.FileSelector(self.path, recursive=recursive, allow_not_found=True)
        for info in self.filesystem.get_file_info(selector):
            if info.type == pafs.FileType.File and info.path.endswith(suffix):
                relative = info.path[len(self.path.rstrip("/")) + 1 :]
                yield self.child(relative)

    def upload(self, local_folder: Path) -> None:
        """Copy a local folder's files here, replacing files of the same name."""
        pafs.copy_files(str(local_folder), self.path, destination_filesystem=self.filesystem)


def location(settings: Settings, uri: str) -> Location:
    """The folder `uri` names: a local path, or `s3a://bucket/prefix` with the warehouse's S3 settings."""
    if is_local(uri):
        return Location(pafs.LocalFileSystem(), uri, uri)
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in S3_SCHEMES:
        raise UsageError(f"{uri}: a location is a local path or s3a://<bucket>/<prefix>, not {parts.scheme}://")
    filesystem = _shared_s3_filesystem(settings.s3_endpoint, settings.s3_region, settings.s3_login)
    return Location(filesystem, f"{parts.netloc}{parts.path}".rstrip("/"), uri)


@cache
def _shared_s3_filesystem(endpoint: str, region: str, login: Login) -> pafs.S3FileSystem:
    """One client per endpoint and login: a client keeps its connections, and pollers ask many times a second."""
    return s3_filesystem(endpoint, region, login)


def s3_filesystem(endpoint: str, region: str, login: Login, **options: object) -> pafs.S3FileSystem:
    """S3 at `endpoint` (a server of our own, such as the local one) or, for none, AWS's; with the login's access key
    and secret or, without one, the default AWS credential chain (an instance or task role on AWS)."""
    if endpoint:
        parts = urllib.parse.urlsplit(endpoint)
        options |= {"endpoint_override": parts.netloc, "scheme": parts.scheme}
    if login:
        options |= {"access_key": login.user, "secret_key": login.password.reveal()}
    return pafs.S3FileSystem(region=region, **options)
