//! The analysis archive (Anchore §2.12): archived images (`GET/POST archives/images`,
//! `GET/DELETE archives/images/{digest}`), transition rules (`GET/POST archives/rules`,
//! `GET/DELETE archives/rules/{rule_id}`), the summary (`GET archives`) and the restore
//! (`POST images` with `{"source": {"archive": {"digest": D}}}`, in `images.rs`). Archiving
//! moves an image
//! out of the live tables: it no longer shows in `GET images` (whatever `image_status`), and
//! `GET images/{digest}` says it is archived.

use anchorage_store::{ArchiveRule, ArchivedImage, ImageSelector, Transition};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::{Params, json_body};
use crate::state::AppState;
use crate::util::{check_digest, iso, now, parse_bool};

/// Most digests in one `POST archives/images` (as Anchore).
const MAX_DIGESTS: usize = 100;

fn archived_json(a: &ArchivedImage) -> Value {
    let annotations: Value = serde_json::from_str(&a.annotations).unwrap_or_else(|_| json!({}));
    let details: Vec<Value> = a
        .tags
        .iter()
        .map(|t| {
            json!({
                "pullstring": t.fulltag,
                "registry": t.registry,
                "repository": t.repo,
                "tag": t.tag,
                "detected_at": iso(t.tag_detected_at),
                "created_at": iso(t.created_at),
                "last_updated": iso(t.last_updated),
            })
        })
        .collect();
    json!({
        "imageDigest": a.digest,
        "parentDigest": a.parent_digest,
        "annotations": annotations,
        "status": a.status,
        "analyzed_at": a.analyzed_at.map(iso),
        "archive_size_bytes": a.archive_size_bytes,
        "image_detail": details,
        "created_at": iso(a.created_at),
        "last_updated": iso(a.last_updated),
    })
}

fn selector_json(s: &ImageSelector) -> Value {
    json!({"registry": s.registry, "repository": s.repository, "tag": s.tag})
}

fn rule_json(r: &ArchiveRule) -> Value {
    json!({
        "rule_id": r.rule_id,
        "selector": selector_json(&r.selector),
        "exclude": {
            "expiration_days": r.exclude_expiration_days,
            "selector": selector_json(&r.exclude),
        },
        "analysis_age_days": r.analysis_age_days,
        "tag_versions_newer": r.tag_versions_newer,
        "transition": r.transition.as_str(),
        "system_global": r.system_global,
        "max_images_per_account": r.max_images_per_account,
        "created_at": iso(r.created_at),
        "last_updated": iso(r.last_updated),
    })
}

/// `GET archives`: the account's archive and rule totals.
pub(crate) async fn summary(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let s = state.db().archive_summary(&caller.account).await?;
    Ok(Json(json!({
        "images": {
            "total_image_count": s.image_count,
            "total_tag_count": s.tag_count,
            "total_data_bytes": s.total_bytes,
            "last_updated": s.last_updated.map(iso),
        },
        "rules": {"count": s.rule_count, "last_updated": s.rules_last_updated.map(iso)},
    })))
}

/// `GET archives/images`.
pub(crate) async fn list_images(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let list = state.db().archived_images(&caller.account).await?;
    Ok(Json(Value::Array(list.iter().map(archived_json).collect())))
}

/// `POST archives/images`: body a JSON list of digests (1 to 100); one result per digest
/// (`archived`, or `error` with the reason; an image already archived keeps its status).
pub(crate) async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let list: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("request body is not valid JSON: {e}")).code("BAD_REQUEST")
    })?;
    let Some(list) = list
        .as_array()
        .filter(|l| !l.is_empty() && l.len() <= MAX_DIGESTS)
    else {
        return Err(ApiError::bad_request(format!(
            "Bad Request. Must include a list of digests between 1 and {MAX_DIGESTS} entries long"
        ))
        .code("BAD_REQUEST"));
    };
    let store = state.archive_store()?;
    let mut out = Vec::new();
    for d in list {
        let Some(digest) = d.as_str() else {
            out.push(
                json!({"digest": d, "status": "error", "detail": "a digest must be a string"}),
            );
            continue;
        };
        if let Err(e) = check_digest(digest) {
            out.push(json!({"digest": digest, "status": "error", "detail": e.message}));
            continue;
        }
        let o =
            anchorage_store::archive_image(state.db(), store, &caller.account, digest, now()).await;
        if o.status == "archived" {
            state.forget_analysis(digest);
        }
        out.push(json!({"digest": o.digest, "status": o.status, "detail": o.detail}));
    }
    Ok(Json(Value::Array(out)))
}

/// `GET archives/images/{digest}`.
pub(crate) async fn get_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Value>> {
    check_digest(&digest)?;
    let a = state
        .db()
        .archived_image(&caller.account, &digest)
        .await?
        .ok_or_else(|| ApiError::not_found("Not found in archive").code("RESOURCE_NOT_FOUND"))?;
    Ok(Json(archived_json(&a)))
}

/// `DELETE archives/images/{digest}`: deletes the archived analysis for good.
pub(crate) async fn delete_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    check_digest(&digest)?;
    let _force = parse_bool("force", q.get("force").map(String::as_str), false)?;
    let store = state.archive_store()?;
    let found =
        anchorage_store::delete_archived_image(state.db(), store, &caller.account, &digest).await?;
    if !found {
        return Err(ApiError::not_found("Not found in archive").code("RESOURCE_NOT_FOUND"));
    }
    Ok(Json(Value::Null))
}

/// `GET archives/rules`: the account's rules and (unless `system_global=false`) the global
/// ones.
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let global = parse_bool(
        "system_global",
        q.get("system_global").map(String::as_str),
        true,
    )?;
    let rules = state.db().archive_rules(&caller.account, global).await?;
    Ok(Json(Value::Array(rules.iter().map(rule_json).collect())))
}

fn int(v: &Map<String, Value>, key: &str, default: i64) -> ApiResult<i64> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => x
            .as_i64()
            .filter(|n| (-1..=1_000_000).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("{key} must be an integer from -1 to 1000000"))
                    .code("BAD_REQUEST")
            }),
    }
}

fn pattern(v: &Value, key: &str, default: &str) -> ApiResult<String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(Value::String(s)) if s.len() <= 512 && !s.chars().any(char::is_control) => {
            Ok(s.clone())
        }
        Some(_) => Err(ApiError::bad_request(format!(
            "selector field {key} must be a string of at most 512 characters"
        ))
        .code("BAD_REQUEST")),
    }
}

fn parse_selector(v: Option<&Value>, default: &str) -> ApiResult<ImageSelector> {
    let empty = json!({});
    let v = match v {
        None | Some(Value::Null) => &empty,
        Some(o @ Value::Object(_)) => o,
        Some(_) => return Err(ApiError::bad_request("a selector must be an object")),
    };
    Ok(ImageSelector {
        registry: pattern(v, "registry", default)?,
        repository: pattern(v, "repository", default)?,
        tag: pattern(v, "tag", default)?,
    })
}

/// `POST archives/rules`.
pub(crate) async fn add_rule(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let Some(o) = body.as_object() else {
        return Err(ApiError::bad_request("a rule must be a JSON object"));
    };
    let transition = o
        .get("transition")
        .and_then(Value::as_str)
        .and_then(Transition::parse)
        .ok_or_else(|| {
            ApiError::bad_request("transition must be \"archive\" or \"delete\"")
                .code("BAD_REQUEST")
        })?;
    let system_global = match o.get("system_global") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("system_global must be a boolean")),
    };
    if system_global {
        caller.require_admin()?;
    }
    let max_images = match o.get("max_images_per_account") {
        None | Some(Value::Null) => None,
        Some(_) => Some(int(o, "max_images_per_account", 0)?),
    };
    let sel = o.get("selector");
    let exclude = o.get("exclude").filter(|e| !e.is_null());
    if let Some(e) = exclude
        && !e.is_object()
    {
        return Err(ApiError::bad_request("exclude must be an object"));
    }
    let selector = match max_images {
        Some(_) => {
            if !system_global {
                return Err(ApiError::bad_request(
                    "Cannot set max_images_per_account on a rule that isn't system_global",
                ));
            }
            let given = |v: Option<&Value>| {
                v.and_then(Value::as_object).is_some_and(|m| {
                    m.values()
                        .any(|x| x.as_str().is_some_and(|s| !s.is_empty()))
                })
            };
            if given(sel) || given(exclude.and_then(|e| e.get("selector"))) {
                return Err(ApiError::bad_request(
                    "Cannot set a selector or exclude on a rule with max_images_per_account",
                ));
            }
            ImageSelector::default()
        }
        None => {
            let s = parse_selector(sel, "")?;
            if s.registry.is_empty() || s.repository.is_empty() || s.tag.is_empty() {
                return Err(
                    ApiError::bad_request("Selector fields cannot be empty").code("BAD_REQUEST")
                );
            }
            s
        }
    };
    let exclude_selector = parse_selector(exclude.and_then(|e| e.get("selector")), "")?;
    let exclude_days = match exclude {
        Some(Value::Object(e)) => int(e, "expiration_days", -1)?,
        _ => -1,
    };
    let t = now();
    let rule = ArchiveRule {
        rule_id: uuid::Uuid::new_v4().simple().to_string(),
        account: caller.account.clone(),
        transition,
        system_global,
        analysis_age_days: int(o, "analysis_age_days", -1)?,
        tag_versions_newer: int(o, "tag_versions_newer", -1)?,
        selector,
        exclude: exclude_selector,
        exclude_expiration_days: exclude_days,
        max_images_per_account: max_images,
        created_at: t,
        last_updated: t,
    };
    state.db().add_archive_rule(&rule).await?;
    tracing::info!(account = %caller.account, rule = %rule.rule_id, transition = rule.transition.as_str(), "archive rule added");
    Ok(Json(rule_json(&rule)))
}

/// `GET archives/rules/{rule_id}`: one of the account's rules, or a global one.
pub(crate) async fn get_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(rule_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = state
        .db()
        .archive_rule(&caller.account, &rule_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rule not found").code("RESOURCE_NOT_FOUND"))?;
    Ok(Json(rule_json(&r)))
}

/// `DELETE archives/rules/{rule_id}`: only the account's own rules (a global one: 403 for
/// others).
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(rule_id): Path<String>,
) -> ApiResult<Json<Value>> {
    if state
        .db()
        .delete_archive_rule(&caller.account, &rule_id)
        .await?
    {
        return Ok(Json(Value::Null));
    }
    match state.db().archive_rule(&caller.account, &rule_id).await? {
        Some(r) if r.system_global => Err(ApiError::forbidden(
            "Non-admins cannot modify/delete system global rules",
        )),
        _ => Err(ApiError::not_found("Rule not found").code("RESOURCE_NOT_FOUND")),
    }
}
