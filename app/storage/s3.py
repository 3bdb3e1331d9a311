"""Artifacts in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto): one store for every host.

The client is boto3's, configured from Herald's settings (docs/STORAGE.md): endpoint, region
and credentials; credentials left unset fall back to boto3's own chain (its environment
variables, shared files, an instance or container role). A download streams the object
through Herald, or, with S3_PRESIGN_SECONDS set, redirects to a presigned GET URL that
lives that long and carries the same Content-Type and Content-Disposition.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Response, has_request_context, redirect, request, send_file
from werkzeug.wsgi import wrap_file

from app.storage.base import StorageError, check_key, content_disposition

_MISSING = {"NoSuchKey", "404", "NotFound"}
# Request headers werkzeug's make_conditional answers (send_file's conditional=True).
_CONDITIONS = {
    "Range",
    "If-Range",
    "If-None-Match",
    "If-Modified-Since",
    "If-Match",
    "If-Unmodified-Since",
}


def make_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    addressing_style: str = "auto",
) -> Any:
    """A boto3 S3 client (thread-safe; one per process). Unset credentials: boto3's chain."""
    session = boto3.session.Session()  # not the shared default session: that one is not thread-safe
    return session.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=Config(
            signature_version="s3v4",
            retries={"mode": "standard", "max_attempts": 3},
            s3={"addressing_style": addressing_style},
        ),
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """botocore's errors as the storage interface's: FileNotFoundError for a missing key,
    StorageError (an OSError) for the rest. Their text names the operation and S3's error
    code and message, never a credential."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = _code(exc)
        if code in _MISSING:
            raise FileNotFoundError(f"not in storage: {key}") from None
        message = error.get("Message") or code
        raise StorageError(f"S3 storage refused {exc.operation_name} ({code}): {message}") from None
    except BotoCoreError as exc:
        raise StorageError(f"S3 storage unreachable: {exc}") from None


class S3Backend:
    """Objects in `bucket` under `prefix` ("" or ending in "/"); a key is appended to it."""

    name = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "", presign_seconds: int = 0):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.presign_seconds = presign_seconds

    def _object(self, key: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": self.prefix + check_key(key)}

    def save(self, key: str, content: bytes) -> int:
        """PUT the object (S3 stores it whole or not at all)."""
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        with _translated(key):
            self.client.put_object(**self._object(key), Body=content, ContentType=content_type)
        return len(content)

    def load(self, key: str) -> bytes:
        """GET the object's bytes."""
        with _translated(key):
            return self.client.get_object(**self._object(key))["Body"].read()

    def exists(self, key: str) -> bool:
        """HEAD the object."""
        try:
            with _translated(key):
                self.client.head_object(**self._object(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        """DELETE the object (S3 answers the same whether or not it was there)."""
        with _translated(key):
            self.client.delete_object(**self._object(key))

    def response(
        self, key: str, download_name: str, mimetype: str, *, as_attachment: bool, max_age: int
    ) -> Response:
        """The object streamed through this process, or a redirect to a presigned URL.

        Streamed, it answers a request's conditions as the local store's send_file does
        (werkzeug's make_conditional on the object's ETag, Last-Modified and size): 304 on a
        matching If-None-Match or If-Modified-Since, 412 on a failed If-Match, 206 with
        Content-Range for one satisfiable byte range (fetched as that range from S3), and
        RequestedRangeNotSatisfiable (416) for a range past the end. A plain GET costs one
        GetObject; a conditional or ranged one a HeadObject first (a 304 or 416 never opens
        the body)."""
        if self.presign_seconds > 0:
            return self._redirect(key, download_name, mimetype, as_attachment)
        if not (has_request_context() and _CONDITIONS.intersection(request.headers.keys())):
            with _translated(key):
                found = self.client.get_object(**self._object(key))
            response = _download(found, download_name, mimetype, as_attachment)
            response.content_length = found["ContentLength"]
            response.accept_ranges = "bytes"  # as send_file says on every local download
        else:
            response = self._conditional(key, download_name, mimetype, as_attachment)
        if max_age:
            response.cache_control.no_cache = None
            response.cache_control.private, response.cache_control.max_age = True, max_age
        return response

    def _conditional(
        self, key: str, download_name: str, mimetype: str, as_attachment: bool
    ) -> Response:
        for attempt in range(2):
            with _translated(key):
                head = self.client.head_object(**self._object(key))
            response = _download(head, download_name, mimetype, as_attachment, body=io.BytesIO())
            size = head["ContentLength"]
            response.content_length = size
            # Raises RequestedRangeNotSatisfiable (416, Content-Range: bytes */size) as
            # send_file does; sets 304, 412 or 206 and its Content-Range otherwise.
            response.make_conditional(request, accept_ranges=True, complete_length=size)
            if response.status_code not in (200, 206):
                return response
            wanted = {"IfMatch": head["ETag"]}  # the very object the headers describe
            if response.status_code == 206 and response.content_range is not None:
                start, stop = response.content_range.start, response.content_range.stop
                wanted["Range"] = f"bytes={start}-{stop - 1}"
            with _translated(key):
                try:
                    found = self.client.get_object(**self._object(key), **wanted)
                except ClientError as exc:
                    if attempt == 0 and _code(exc) == "PreconditionFailed":
                        continue  # saved again between HEAD and GET: answer for the new one
                    raise
            response.response = wrap_file(request.environ, found["Body"])
            response.direct_passthrough = True
            return response
        raise StorageError("S3 storage: the object kept changing during a download")

    def _redirect(self, key: str, download_name: str, mimetype: str, attach: bool) -> Response:
        with _translated(key):
            self.client.head_object(**self._object(key))  # a missing file is a 404 here
            url = self.client.generate_presigned_url(
                "get_object",
                Params={
                    **self._object(key),
                    "ResponseContentType": mimetype,
                    "ResponseContentDisposition": content_disposition(
                        download_name, as_attachment=attach
                    ),
                },
                ExpiresIn=self.presign_seconds,
            )
        response = redirect(url, 302)
        # The URL dies after presign_seconds: nothing may keep the redirect longer.
        response.headers["Cache-Control"] = "no-store"
        return response


def _download(
    found: dict[str, Any],
    download_name: str,
    mimetype: str,
    as_attachment: bool,
    body: Any = None,
) -> Response:
    """werkzeug's send_file headers for an object (`found`: a GetObject or HeadObject
    answer), exactly as the local store's downloads, with S3's ETag and Last-Modified.
    send_file reads the body in chunks and closes it when the response ends."""
    return send_file(
        found["Body"] if body is None else body,
        mimetype=mimetype,
        download_name=download_name,
        as_attachment=as_attachment,
        conditional=False,
        etag=found.get("ETag", "").strip('"') or False,
        last_modified=found.get("LastModified"),
    )
