//! The vulnerability report (§3.2) and the policy check (§2.3, §3.6). Both run on demand from
//! the stored analysis and the current vulnerability data, so they always reflect the latest
//! feeds without re-analysis; each check is stored as an evaluation (its history).

use anchorage_store::ImageRecord;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::{NON_OS, Params, owned, owned_by_id, require_analyzed};
use crate::state::AppState;
use crate::util::{iso, normalize_tag, parse_bool};

/// `GET images/{digest}/vuln`.
pub(crate) async fn vuln_types(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Value>> {
    owned(&state, &caller, &digest).await?;
    Ok(Json(json!(["os", "non-os", "all"])))
}

/// `GET images/{digest}/vuln/{vtype}`.
pub(crate) async fn vuln(
    State(state): State<AppState>,
    caller: Caller,
    Path((digest, vtype)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let r = owned(&state, &caller, &digest).await?;
    vuln_of(&state, &r, &vtype, &q).await
}

/// `GET images/by_id/{id}/vuln/{vtype}`.
pub(crate) async fn vuln_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, vtype)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let r = owned_by_id(&state, &caller, &id).await?;
    vuln_of(&state, &r, &vtype, &q).await
}

async fn vuln_of(
    state: &AppState,
    r: &ImageRecord,
    vtype: &str,
    q: &std::collections::HashMap<String, String>,
) -> ApiResult<Json<Value>> {
    if !matches!(vtype, "os" | "non-os" | "all") {
        return Err(ApiError::not_found(format!(
            "vulnerability type ({vtype}) not available; types: os, non-os, all"
        )));
    }
    let vendor_only = parse_bool(
        "vendor_only",
        q.get("vendor_only").map(String::as_str),
        true,
    )?;
    require_analyzed(r)?;
    let analysis = state.analysis(&r.digest).await?;
    let v = state
        .engine()
        .vulnerabilities(analysis)
        .await
        .map_err(|e| ApiError::internal("matching vulnerabilities", &e))?;
    let rows: Vec<Value> = anchorage_match::anchore_rows(&v.report.findings)
        .into_iter()
        .filter(|row| {
            let t = row["package_type"].as_str().unwrap_or_default();
            match vtype {
                "os" => !NON_OS.contains(&t),
                "non-os" => NON_OS.contains(&t),
                _ => true,
            }
        })
        .filter(|row| !(vendor_only && row["will_not_fix"].as_bool() == Some(true)))
        .collect();
    Ok(Json(json!({
        "imageDigest": r.digest,
        "vulnerability_type": vtype,
        "vulnerabilities": rows,
    })))
}

/// `GET images/{digest}/check`.
pub(crate) async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let r = owned(&state, &caller, &digest).await?;
    check_of(&state, &caller, &r, &q).await
}

/// `GET images/by_id/{id}/check`.
pub(crate) async fn check_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let r = owned_by_id(&state, &caller, &id).await?;
    check_of(&state, &caller, &r, &q).await
}

async fn check_of(
    state: &AppState,
    caller: &Caller,
    r: &ImageRecord,
    q: &std::collections::HashMap<String, String>,
) -> ApiResult<Json<Value>> {
    let detail = parse_bool("detail", q.get("detail").map(String::as_str), true)?;
    let history = parse_bool("history", q.get("history").map(String::as_str), false)?;
    let tag_text = q
        .get("tag")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("the tag query parameter is required (the tag to evaluate)")
                .code("BAD_REQUEST")
        })?;
    let tag = normalize_tag(tag_text)?.full();
    require_analyzed(r)?;
    let policy = match q.get("policyId").filter(|p| !p.is_empty()) {
        Some(id) => state
            .db()
            .policy(&caller.account, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("policy bundle {id} not found")))?,
        None => state
            .db()
            .active_policy(&caller.account)
            .await?
            .ok_or_else(|| ApiError::not_found("user has no active policy to evaluate"))?,
    };
    let analysis = state.analysis(&r.digest).await?;
    let stored = state
        .watch()
        .evaluate(&caller.account, &r.digest, &tag, &policy, analysis)
        .await
        .map_err(|e| match e {
            anchorage_watch::WatchError::Bundle {
                policy_id,
                problems,
            } => ApiError::bad_request(format!("stored policy bundle {policy_id} is not valid"))
                .with_detail("validation_details", problems),
            other => ApiError::internal("evaluating the policy", &other),
        })?;
    let bundle_json = stored.bundle;
    let records = state
        .db()
        .evaluations(
            &caller.account,
            &r.digest,
            &tag,
            if history { 1000 } else { 1 },
        )
        .await?;
    let evals: Vec<Value> = records
        .iter()
        .map(|e| {
            let result: Value = serde_json::from_str(&e.document).unwrap_or(Value::Null);
            let detail_v = if detail {
                json!({"policy": bundle_json, "result": result})
            } else {
                json!({})
            };
            json!({
                "policyId": e.policy_id,
                "status": e.status,
                "last_evaluation": iso(e.created_at),
                "detail": detail_v,
            })
        })
        .collect();
    Ok(Json(json!([{ r.digest.clone(): { tag: evals } }])))
}
