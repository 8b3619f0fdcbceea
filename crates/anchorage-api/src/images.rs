//! Images (Anchore §2.2, §3.1-3.4): add, list, get, delete, content, metadata and the
//! vulnerability report. The policy check is in `check.rs`.

use std::collections::HashMap;

use anchorage_store::{AddImage, ImageFilter, ImageRecord, TagRecord};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::access::account_access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::util::{check_digest, iso, normalize_tag, now, parse_bool};

/// Query parameters, any of them.
pub(crate) type Params = Query<HashMap<String, String>>;

/// Largest Dockerfile accepted with an image (decoded).
const MAX_DOCKERFILE_BYTES: usize = 1 << 20;

/// Content types (§3.3), static like Anchore's list.
pub(crate) const CONTENT_TYPES: &[&str] = &[
    "os",
    "files",
    "npm",
    "gem",
    "python",
    "java",
    "binary",
    "go",
    "nuget",
    "malware",
    "manifest",
    "dockerfile",
    "docker_history",
];

/// Metadata types (§2.2).
const METADATA_TYPES: &[&str] = &["manifest", "docker_history", "dockerfile"];

/// Package types that are not OS packages (§3.2).
pub(crate) const NON_OS: &[&str] = &[
    "java", "python", "npm", "gem", "maven", "js", "composer", "nuget", "binary", "go",
];

/// An image record as Anchore returns it (§3.1).
pub(crate) fn image_json(r: &ImageRecord) -> Value {
    let metadata: Value = serde_json::from_str(&r.metadata).unwrap_or_else(|_| json!({}));
    let meta = |k: &str| metadata.get(k).cloned().unwrap_or(Value::Null);
    let annotations: Value = serde_json::from_str(&r.annotations).unwrap_or_else(|_| json!({}));
    let details: Vec<Value> = r
        .tags
        .iter()
        .map(|t| {
            json!({
                "registry": t.registry,
                "repo": t.repo,
                "tag": t.tag,
                "digest": r.digest,
                "imageDigest": r.digest,
                "imageId": r.image_id,
                "fulltag": t.fulltag,
                "fulldigest": format!("{}/{}@{}", t.registry, t.repo, r.digest),
                "userId": r.account,
                "dockerfile": t.dockerfile,
                "created_at": iso(t.created_at),
                "last_updated": iso(t.last_updated),
                "tag_detected_at": iso(t.tag_detected_at),
            })
        })
        .collect();
    json!({
        "imageDigest": r.digest,
        "userId": r.account,
        "parentDigest": r.parent_digest,
        "image_type": "docker",
        "image_status": r.image_status,
        "analysis_status": r.analysis_status,
        "analysis_failure_reason": r.failure_reason,
        "created_at": iso(r.created_at),
        "last_updated": iso(r.last_updated),
        "analyzed_at": r.analyzed_at.map(iso),
        "annotations": annotations,
        "image_content": {"metadata": {
            "arch": meta("arch"),
            "distro": meta("distro"),
            "distro_version": meta("distro_version"),
            "dockerfile_mode": meta("dockerfile_mode"),
            "image_size": meta("image_size"),
            "layer_count": meta("layer_count"),
        }},
        "image_detail": details,
    })
}

fn parse_body(body: &Bytes) -> ApiResult<Value> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("request body is not valid JSON: {e}")).code("BAD_REQUEST")
    })?;
    if !v.is_object() {
        return Err(ApiError::bad_request("request body must be a JSON object"));
    }
    Ok(v)
}

/// Reads a JSON body that must be an object.
pub(crate) fn json_body(body: &Bytes) -> ApiResult<Value> {
    parse_body(body)
}

fn opt_str<'a>(v: &'a Value, key: &str) -> ApiResult<Option<&'a str>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be a string"))),
    }
}

/// `POST images`.
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = parse_body(&body)?;
    let force = parse_bool("force", q.get("force").map(String::as_str), false)?;
    let autosubscribe = parse_bool(
        "autosubscribe",
        q.get("autosubscribe").map(String::as_str),
        true,
    )?;
    if let Some(archived) = body.get("source").and_then(|s| s.get("archive")) {
        return restore_from_archive(&state, &caller, archived).await;
    }
    // Legacy `{tag, digest, dockerfile}` or `{"source": {"tag": {"pullstring", "dockerfile"}}}`.
    let source_tag = body.get("source").and_then(|s| s.get("tag"));
    let (tag_text, dockerfile) = match source_tag {
        Some(t) => (opt_str(t, "pullstring")?, opt_str(t, "dockerfile")?),
        None => (opt_str(&body, "tag")?, opt_str(&body, "dockerfile")?),
    };
    if body.get("source").is_some() && source_tag.is_none() {
        return Err(ApiError::bad_request(
            "only source.tag and source.archive are supported (source.digest and source.import are not)",
        ));
    }
    let tag_text = tag_text.ok_or_else(|| {
        ApiError::bad_request("the request must name an image tag (\"tag\")").code("BAD_REQUEST")
    })?;
    let tag = normalize_tag(tag_text)?;
    let digest_given = opt_str(&body, "digest")?;
    if let Some(d) = dockerfile {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(d.trim())
            .map_err(|_| ApiError::bad_request("dockerfile must be base64"))?;
        if decoded.len() > MAX_DOCKERFILE_BYTES {
            return Err(ApiError::bad_request(format!(
                "dockerfile is {} bytes; the limit is {MAX_DOCKERFILE_BYTES}",
                decoded.len()
            )));
        }
        if std::str::from_utf8(&decoded).is_err() {
            return Err(ApiError::bad_request("dockerfile is not UTF-8 text"));
        }
    }
    let annotations = match body.get("annotations") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.values().all(Value::is_string) => {
            Some(Value::Object(m.clone()).to_string())
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "annotations must be an object of string values",
            ));
        }
    };
    let fulltag = tag.full();
    let digest = match digest_given {
        Some(d) => {
            check_digest(d)?;
            d.to_string()
        }
        None => {
            let access = account_access(&state, &caller.account).await?;
            state
                .engine()
                .resolve_digest_with(&fulltag, &access)
                .await
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "cannot fetch image digest/manifest from registry: {e}"
                    ))
                    .code("REGISTRY_LOOKUP_FAILED")
                })?
                .to_string()
        }
    };
    let t = now();
    let added = state
        .db()
        .add_image(&AddImage {
            account: caller.account.clone(),
            digest: digest.clone(),
            parent_digest: digest.clone(),
            pull_ref: format!("{}/{}@{}", tag.registry, tag.repo, digest),
            tag: TagRecord {
                registry: tag.registry.clone(),
                repo: tag.repo.clone(),
                tag: tag.tag.clone(),
                fulltag: fulltag.clone(),
                dockerfile: dockerfile.map(str::to_string),
                created_at: t,
                last_updated: t,
                tag_detected_at: t,
            },
            dockerfile: dockerfile.map(str::to_string),
            annotations,
            force,
            max_attempts: state.inner.config.max_attempts,
            now: t,
        })
        .await?;
    if added.queued {
        state.forget_analysis(&digest);
    }
    // Anchore's auto-subscription: the four tag subscriptions, `analysis_update` active and
    // `tag_update` active when `autosubscribe`.
    state
        .watch()
        .subscribe_tag(&caller.account, &fulltag, autosubscribe)
        .await
        .map_err(|e| ApiError::internal("creating the tag's subscriptions", &e))?;
    tracing::info!(account = %caller.account, %fulltag, %digest, queued = added.queued, "image added");
    let record = state
        .db()
        .image(&caller.account, &digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("image {digest} not found")))?;
    Ok(Json(json!([image_json(&record)])))
}

/// `POST images` with `{"source": {"archive": {"digest": D}}}`: brings the archived image
/// back, analysis included, without re-analysis.
async fn restore_from_archive(
    state: &AppState,
    caller: &Caller,
    source: &Value,
) -> ApiResult<Json<Value>> {
    let digest = source
        .get("digest")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("source.archive.digest must be a string"))?;
    check_digest(digest)?;
    let store = state.archive_store()?;
    match anchorage_store::restore_image(state.db(), store, &caller.account, digest).await {
        Ok(anchorage_store::Restored::Restored) => {}
        Ok(_) => {
            return Err(ApiError::not_found(format!(
                "image {digest} is not in the analysis archive"
            ))
            .code("RESOURCE_NOT_FOUND"));
        }
        Err(anchorage_store::StoreError::Conflict { .. }) => {
            return Err(ApiError::conflict(
                "Conflict: Image already exists in system. No restore possible",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let record = state
        .db()
        .image(&caller.account, digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("image {digest} not found")))?;
    Ok(Json(json!([image_json(&record)])))
}

fn filter_from(q: &HashMap<String, String>) -> ApiResult<ImageFilter> {
    let image_status = match q.get("image_status").map(String::as_str) {
        None | Some("active") => Some("active".to_string()),
        Some("all") => None,
        Some(s @ ("inactive" | "deleting" | "disabled")) => Some(s.to_string()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "image_status {other:?} is not one of all, active, inactive, deleting"
            )));
        }
    };
    let analysis_status = match q.get("analysis_status").map(String::as_str) {
        None | Some("all") => None,
        Some(s @ ("not_analyzed" | "analyzing" | "analyzed" | "analysis_failed")) => {
            Some(s.to_string())
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "analysis_status {other:?} is not one of not_analyzed, analyzing, analyzed, analysis_failed"
            )));
        }
    };
    Ok(ImageFilter {
        image_status,
        analysis_status,
        ..ImageFilter::default()
    })
}

/// `GET images`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let mut filter = filter_from(&q)?;
    let history = parse_bool("history", q.get("history").map(String::as_str), false)?;
    let mut fulltag = None;
    if let Some(t) = q.get("fulltag") {
        let tag = normalize_tag(t)?.full();
        filter.fulltag = Some(tag.clone());
        fulltag = Some(tag);
    }
    let mut images = state.db().images(&caller.account, &filter).await?;
    if let Some(tag) = &fulltag
        && images.is_empty()
    {
        // As Anchore: a tag lookup that finds nothing is a 404, not an empty list.
        return Err(
            ApiError::not_found(format!("image data not found in DB for {tag}"))
                .code("RESOURCE_NOT_FOUND"),
        );
    }
    if let Some(tag) = fulltag
        && !history
    {
        // Only the image the tag points at now: the newest detection of that tag.
        let detected = |r: &ImageRecord| {
            r.tags
                .iter()
                .filter(|t| t.fulltag == tag)
                .map(|t| t.tag_detected_at)
                .max()
                .unwrap_or(0)
        };
        images.sort_by_key(|r| std::cmp::Reverse(detected(r)));
        images.truncate(1);
    }
    Ok(Json(Value::Array(images.iter().map(image_json).collect())))
}

/// The image of the caller's account, or 404.
pub(crate) async fn owned(
    state: &AppState,
    caller: &Caller,
    digest: &str,
) -> ApiResult<ImageRecord> {
    check_digest(digest)?;
    if let Some(found) = state.db().image(&caller.account, digest).await? {
        return Ok(found);
    }
    let message = if state
        .db()
        .archived_image(&caller.account, digest)
        .await?
        .is_some()
    {
        format!(
            "image {digest} not found: it is in the analysis archive (restore it with POST \
             images {{\"source\": {{\"archive\": {{\"digest\": \"{digest}\"}}}}}})"
        )
    } else {
        format!("image {digest} not found")
    };
    Err(ApiError::not_found(message).code("RESOURCE_NOT_FOUND"))
}

/// The image with this image id in the caller's account, or 404.
pub(crate) async fn owned_by_id(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<ImageRecord> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(format!(
            "invalid image id {id:?}: expected 64 hex digits"
        )));
    }
    let filter = ImageFilter {
        image_id: Some(id.to_ascii_lowercase()),
        ..ImageFilter::default()
    };
    state
        .db()
        .images(&caller.account, &filter)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::not_found(format!("image id {id} not found")).code("RESOURCE_NOT_FOUND")
        })
}

/// `GET images/{digest}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = owned(&state, &caller, &digest).await?;
    Ok(Json(json!([image_json(&r)])))
}

/// `GET images/by_id/{id}`.
pub(crate) async fn get_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = owned_by_id(&state, &caller, &id).await?;
    Ok(Json(json!([image_json(&r)])))
}

async fn delete_record(
    state: &AppState,
    caller: &Caller,
    r: &ImageRecord,
    force: bool,
) -> ApiResult<Value> {
    if r.analysis_status == "analyzing" && !force {
        return Ok(json!({
            "digest": r.digest,
            "status": "delete_failed",
            "detail": "cannot delete an image that is being analyzed (use force)",
        }));
    }
    state.db().delete_image(&caller.account, &r.digest).await?;
    state.forget_analysis(&r.digest);
    tracing::info!(account = %caller.account, digest = %r.digest, "image deleted");
    Ok(json!({"digest": r.digest, "status": "deleting", "detail": null}))
}

/// `DELETE images/{digest}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let force = parse_bool("force", q.get("force").map(String::as_str), false)?;
    let r = owned(&state, &caller, &digest).await?;
    Ok(Json(delete_record(&state, &caller, &r, force).await?))
}

/// `DELETE images/by_id/{id}`.
pub(crate) async fn delete_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let force = parse_bool("force", q.get("force").map(String::as_str), false)?;
    let r = owned_by_id(&state, &caller, &id).await?;
    Ok(Json(delete_record(&state, &caller, &r, force).await?))
}

/// 404 unless the image is analysed, worded as the CLI expects (§1.3).
pub(crate) fn require_analyzed(r: &ImageRecord) -> ApiResult<()> {
    if r.analysis_status == "analyzed" {
        Ok(())
    } else {
        let mut e = ApiError::not_found(format!(
            "image is not analyzed - analysis_status: {}",
            r.analysis_status
        ));
        if let Some(reason) = &r.failure_reason {
            e = e.with_detail("analysis_failure_reason", json!(reason));
        }
        Err(e)
    }
}

/// `GET images/{digest}/content`.
pub(crate) async fn content_types(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Value>> {
    owned(&state, &caller, &digest).await?;
    Ok(Json(json!(CONTENT_TYPES)))
}

/// `GET images/{digest}/metadata`.
pub(crate) async fn metadata_types(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Value>> {
    owned(&state, &caller, &digest).await?;
    Ok(Json(json!(METADATA_TYPES)))
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// The raw document of a metadata type, or `None` when the analysis has none.
fn metadata_text(a: &anchorage_engine::Analysis, mtype: &str) -> Option<String> {
    match mtype {
        "manifest" => a.image.manifest_json.clone(),
        "dockerfile" => a.image.dockerfile.as_ref().map(|d| d.text.clone()),
        "docker_history" => serde_json::to_string(&a.image.history).ok(),
        _ => None,
    }
}

/// `GET images/{digest}/metadata/{mtype}`.
pub(crate) async fn metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path((digest, mtype)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let r = owned(&state, &caller, &digest).await?;
    if !METADATA_TYPES.contains(&mtype.as_str()) {
        return Err(ApiError::not_found(format!(
            "metadata type ({mtype}) not available; types: {}",
            METADATA_TYPES.join(", ")
        )));
    }
    require_analyzed(&r)?;
    let a = state.analysis(&r.digest).await?;
    let text = metadata_text(&a, &mtype).unwrap_or_default();
    Ok(Json(json!({
        "imageDigest": r.digest,
        "metadata_type": mtype,
        "metadata": b64(&text),
    })))
}

/// `GET images/{digest}/content/{ctype}`.
pub(crate) async fn content(
    State(state): State<AppState>,
    caller: Caller,
    Path((digest, ctype)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let r = owned(&state, &caller, &digest).await?;
    content_of(&state, &r, &ctype).await
}

/// `GET images/by_id/{id}/content/{ctype}`.
pub(crate) async fn content_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, ctype)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let r = owned_by_id(&state, &caller, &id).await?;
    content_of(&state, &r, &ctype).await
}

async fn content_of(state: &AppState, r: &ImageRecord, ctype: &str) -> ApiResult<Json<Value>> {
    if !CONTENT_TYPES.contains(&ctype) {
        return Err(ApiError::not_found(format!(
            "content type ({ctype}) not available; types: {}",
            CONTENT_TYPES.join(", ")
        )));
    }
    require_analyzed(r)?;
    let a = state.analysis(&r.digest).await?;
    let content = match ctype {
        "manifest" | "dockerfile" | "docker_history" => {
            json!(b64(&metadata_text(&a, ctype).unwrap_or_default()))
        }
        _ => crate::content::rows(&a, ctype),
    };
    Ok(Json(json!({
        "imageDigest": r.digest,
        "content_type": ctype,
        "content": content,
    })))
}
