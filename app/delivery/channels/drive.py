"""The Google Drive channel: each report PDF of an entry becomes its own file in a folder.

Configuration::

    {"kind": "drive", "service_account": "drive-archive", "folder_id": "1AbC...",
     "filename": "{customers.id}-{report.code}-{params.period}.pdf"}

`filename` may use `{report.code}`, `{report.filename}` (the report's own file name, the
default) and the entry's placeholders; the result is cleaned by `app.filenames`.

`service_account` names a workspace Connection of kind "google":

- secrets (encrypted): `{"key": <the service-account JSON key, as an object or a string>}`
- settings (optional): `{"api_endpoint": "https://www.googleapis.com",
  "scopes": ["https://www.googleapis.com/auth/drive.file"]}`

Authentication is the service-account JWT-bearer grant of `google-auth`; the key's
`token_uri` decides where the token exchange goes. Tokens are cached per key for their
lifetime, so a burst of entries does not exchange one token per upload.

The Drive endpoint is the connection's `api_endpoint`, else the app's
`GOOGLE_API_ENDPOINT` config, else https://www.googleapis.com. Note on googleapiclient:
`build(..., client_options={"api_endpoint": X})` moves ordinary calls to X, but media
uploads keep the static discovery document's scheme and path and only take X's host
(`_fix_up_media_path_base_url`), so uploads to an http:// or path-prefixed endpoint would
go astray. The client is therefore built from the packaged static Drive v3 document with
its `rootUrl` set to the endpoint (`build_from_document`), which moves both
`<endpoint>/drive/v3/...` and `<endpoint>/upload/drive/v3/files` — no network fetch of
the discovery document either way.

Errors are classified by Drive's `reason` (https://developers.google.com/drive/api/guides/
handle-errors): rateLimitExceeded/userRateLimitExceeded and quotaExceeded are retried later;
storageQuotaExceeded fails with "free space / use a shared drive"; notFound (or 404) fails
with the folder-missing advice; forbidden/insufficientPermissions fail with "share the folder
with <service account>"; 401 and rejected token exchanges fail with "unauthorized —
re-upload the key". 429, 5xx, timeouts and transport errors are retried.
Files uploaded before a failure stay, and the failure records them (`partial`): the retry of
that delivery, automatic or a person's Retry, uploads only the reports still missing. Only a
deliberate re-delivery uploads every file again. Each file carries appProperties `heraldRun`,
`heraldEntry`, `heraldReport` so its origin can be found.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from io import BytesIO
from typing import Any

from flask import current_app

from app.delivery.channels.base import DeliveryContext, ReportFile
from app.filenames import named_like, unique_filenames
from app.jobs.channels import DriveDelivery
from app.models import Connection
from app.outbound.errors import DeliveryError, TransientDeliveryError
from app.outbound.post import check_http_url, excerpt, is_transient_status
from app.outbound.secrets import find_connection, get_secrets
from app.placeholders import substitute

DEFAULT_API_ENDPOINT = "https://www.googleapis.com"
DEFAULT_SCOPES = ("https://www.googleapis.com/auth/drive.file",)
DEFAULT_TIMEOUT = 60.0
# 403 reasons Drive uses for "slow down", which Google says to retry with backoff.
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "sharingRateLimitExceeded"}
# 403 reasons meaning "this account may not write there": the folder is not shared with it.
FORBIDDEN_REASONS = {
    "forbidden",
    "insufficientPermissions",
    "insufficientFilePermissions",
    "cannotAddParent",
}
_CREDENTIALS_CACHE_SIZE = 32
_credentials: OrderedDict[tuple[str, ...], Any] = OrderedDict()


def clear_credentials_cache() -> None:
    _credentials.clear()


def service_account_key(connection: Connection) -> dict[str, Any]:
    """The connection's service-account key, checked enough to give a clear message."""
    key = get_secrets(connection).get("key")
    if isinstance(key, str):
        try:
            key = json.loads(key)
        except ValueError:
            key = None
    if not isinstance(key, dict):
        raise DeliveryError(f"connection '{connection.code}' has no service-account JSON key")
    if key.get("type", "service_account") != "service_account":
        raise DeliveryError(
            f"the key of connection '{connection.code}' is a {key.get('type')} key, "
            "not a service-account key"
        )
    missing = [f for f in ("client_email", "private_key", "token_uri") if not key.get(f)]
    if missing:
        raise DeliveryError(
            f"the service-account key of connection '{connection.code}' lacks {', '.join(missing)}"
        )
    return key


def api_endpoint(connection: Connection) -> str:
    endpoint = (
        connection.settings.get("api_endpoint")
        or current_app.config.get("GOOGLE_API_ENDPOINT")
        or DEFAULT_API_ENDPOINT
    )
    try:
        return check_http_url(str(endpoint)).rstrip("/")
    except ValueError as exc:
        raise DeliveryError(f"Google API endpoint '{endpoint}' {exc}") from None


def _credentials_for(key: dict[str, Any], scopes: tuple[str, ...], code: str) -> Any:
    from google.oauth2 import service_account

    cache_key = (hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest(), *scopes)
    if (cached := _credentials.get(cache_key)) is not None:
        _credentials.move_to_end(cache_key)
        return cached
    try:
        credentials = service_account.Credentials.from_service_account_info(key, scopes=scopes)
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryError(
            f"the service-account key of connection '{code}' is invalid ({exc})"
        ) from None
    _credentials[cache_key] = credentials
    while len(_credentials) > _CREDENTIALS_CACHE_SIZE:
        _credentials.popitem(last=False)
    return credentials


@lru_cache(maxsize=1)
def _static_drive_document() -> str:
    from googleapiclient.discovery_cache import get_static_doc

    document = get_static_doc("drive", "v3")
    if document is None:  # pragma: no cover - the document ships with googleapiclient
        raise RuntimeError("googleapiclient has no static Drive v3 discovery document")
    return document


def drive_service(credentials: Any, endpoint: str, timeout: float) -> Any:
    """A Drive v3 client whose every request, uploads included, goes to `endpoint`."""
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build_from_document

    document = json.loads(_static_drive_document())  # a fresh dict each time
    document["rootUrl"] = endpoint + "/"
    http = httplib2.Http(timeout=timeout)
    http.redirect_codes = http.redirect_codes - {308}  # as googleapiclient.http.build_http
    return build_from_document(
        document,
        http=google_auth_httplib2.AuthorizedHttp(credentials, http=http),
        client_options={"api_endpoint": f"{endpoint}/drive/v3/"},
    )


def file_names(
    config: DriveDelivery, values: Mapping[str, Any], artifacts: Sequence[ReportFile]
) -> list[str]:
    """Each report's Drive file name: the pattern filled in and cleaned (app.filenames)."""
    names = []
    for artifact in artifacts:
        report = {
            "code": artifact.report_code,
            "name": artifact.report_code,
            "filename": artifact.filename,
        }
        name = substitute(config.filename, {**values, "report": report})
        names.append(named_like(name, artifact.filename, default=artifact.report_code))
    return unique_filenames(names)


def send_drive(
    config: DriveDelivery,
    values: Mapping[str, Mapping[str, Any]],
    artifacts: Sequence[ReportFile],
    workspace_id: int,
    context: DeliveryContext,
) -> dict[str, Any]:
    """Upload each report of the entry into the folder; return the created files."""
    connection = find_connection(workspace_id, "google", config.service_account)
    key = service_account_key(connection)
    scopes = connection.settings.get("scopes") or DEFAULT_SCOPES
    scopes = (scopes,) if isinstance(scopes, str) else tuple(scopes)
    endpoint = api_endpoint(connection)
    timeout = float(current_app.config.get("GOOGLE_API_TIMEOUT", DEFAULT_TIMEOUT))
    names = file_names(config, values, artifacts)
    credentials = _credentials_for(key, scopes, connection.code)
    service = drive_service(credentials, endpoint, timeout)

    from googleapiclient.http import MediaIoBaseUpload

    # Files uploaded by an attempt that failed later on, by their report and format (a
    # report may have a PDF, a CSV and an XLSX; records older than formats name no format).
    earlier = {
        (f.get("report"), f.get("format", "pdf")): f
        for f in (context.partial or {}).get("files", [])
    }
    uploaded: list[dict[str, str]] = []
    for artifact, name in zip(artifacts, names, strict=True):
        file_key = (artifact.report_code, _format_of(artifact))
        if file_key in earlier:
            uploaded.append(earlier[file_key])
            continue
        media = MediaIoBaseUpload(
            BytesIO(artifact.content),
            mimetype=artifact.content_type or "application/pdf",
            resumable=False,
        )
        body = {
            "name": name,
            "parents": [config.folder_id],
            "appProperties": {
                "heraldRun": str(context.run_id),
                "heraldEntry": str(context.entry_id),
                "heraldReport": artifact.report_code,
            },
        }
        request = service.files().create(
            body=body, media_body=media, fields="id,name", supportsAllDrives=True
        )
        try:
            created = request.execute(num_retries=0)
        except Exception as exc:
            error = _classify(exc, config.folder_id, key["client_email"])
            if error is None:
                raise
            if uploaded:
                done = ", ".join(f["name"] for f in uploaded)
                error = type(error)(
                    f"{error} ({len(uploaded)} of {len(artifacts)} files are uploaded; "
                    f"a retry uploads only the rest: {done})",
                    partial={"folder_id": config.folder_id, "files": uploaded},
                )
            raise error from None
        uploaded.append(
            {
                "id": str(created.get("id", "")),
                "name": created.get("name", name),
                "report": artifact.report_code,
                "format": _format_of(artifact),
            }
        )
    return {
        "folder_id": config.folder_id,
        "service_account": key["client_email"],
        "files": uploaded,
    }


def _format_of(artifact: ReportFile) -> str:
    """The file's format as its extension says (pdf, csv, xlsx)."""
    return artifact.filename.rpartition(".")[2].lower() or "pdf"


def _classify(exc: Exception, folder_id: str, client_email: str) -> DeliveryError | None:
    """The DeliveryError for a failed Drive call, or None for an unexpected exception."""
    import httplib2
    from google.auth import exceptions as auth_errors
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        return _http_error(exc, folder_id, client_email)
    if isinstance(exc, auth_errors.RefreshError):
        if getattr(exc, "retryable", False):
            return TransientDeliveryError(f"Google Drive: token exchange failed ({exc})")
        return DeliveryError(
            f"Google Drive: unauthorized — the token exchange for {client_email} was rejected "
            f"({exc}); the key may be revoked or deleted: re-upload the service-account key"
        )
    if isinstance(exc, auth_errors.TransportError | httplib2.HttpLib2Error | OSError):
        if isinstance(exc, TimeoutError):
            return TransientDeliveryError("Google Drive: no answer in time")
        return TransientDeliveryError(f"Google Drive: connection failed ({exc})")
    return None


def _http_error(exc: Any, folder_id: str, client_email: str) -> DeliveryError:
    status = int(exc.resp.status)
    details = exc.error_details if isinstance(exc.error_details, list) else []
    reasons = {d.get("reason") for d in details if isinstance(d, dict)}
    message = excerpt(str(exc.reason or "").encode())
    shown = f"HTTP {status} {', '.join(sorted(r for r in reasons if r))}".strip()
    if reasons & RATE_LIMIT_REASONS:
        return TransientDeliveryError(
            f"Google Drive: rate limit ({shown}: {message}); retried later"
        )
    if "quotaExceeded" in reasons:  # a daily or per-project API quota: it refills
        return TransientDeliveryError(f"Google Drive: API quota used up ({shown}); retried later")
    if "storageQuotaExceeded" in reasons:
        return DeliveryError(
            f"Google Drive: no storage left ({shown}) — free space in the drive, or, as a "
            "service account has no storage quota of its own, use a folder on a shared drive"
        )
    if is_transient_status(status):
        return TransientDeliveryError(f"Google Drive: HTTP {status} ({message})")
    if "appNotAuthorizedToFile" in reasons:
        return DeliveryError(
            f"Google Drive: unauthorized — the drive.file scope does not reach folder "
            f"{folder_id}; set the connection's scopes to https://www.googleapis.com/auth/drive"
        )
    if status == 404 or "notFound" in reasons:
        return DeliveryError(
            f"Google Drive: folder {folder_id} not found, or not shared with {client_email} "
            f"({shown}) — check the folder id, and share the folder with that address"
        )
    if status == 403 and reasons & FORBIDDEN_REASONS:
        return DeliveryError(
            f"Google Drive: {client_email} may not write to folder {folder_id} ({shown}: "
            f"{message}) — share the folder with {client_email} as Editor (Content manager "
            "on a shared drive)"
        )
    if status == 401 or reasons & {"authError", "unauthorized"}:
        return DeliveryError(
            f"Google Drive: unauthorized — the key of {client_email} was refused "
            f"({shown}: {message}); re-upload the service-account key"
        )
    if status == 403:
        return DeliveryError(
            f"Google Drive: forbidden ({shown}: {message}) — check that folder {folder_id} "
            f"is shared with {client_email} as Editor"
        )
    return DeliveryError(f"Google Drive: HTTP {status} ({message})")
