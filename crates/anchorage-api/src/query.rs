//! The query endpoints (§2.10): which of the account's analysed images carry a vulnerability or
//! a package. Computed from the stored analyses and the current vulnerability data.

use anchorage_store::{ImageFilter, ImageRecord};
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::Params;
use crate::state::AppState;
use crate::util::{iso, parse_bool};

/// The `image` object of a query result.
fn image_json(r: &ImageRecord) -> Value {
    json!({
        "imageDigest": r.digest,
        "imageId": r.image_id,
        "analyzed_at": r.analyzed_at.map(iso),
        "tag_history": r.tags.iter().map(|t| json!({
            "registry": t.registry,
            "repo": t.repo,
            "tag": t.tag,
            "fulltag": t.fulltag,
            "tag_detected_at": iso(t.tag_detected_at),
        })).collect::<Vec<_>>(),
    })
}

async fn analysed(state: &AppState, caller: &Caller) -> ApiResult<Vec<ImageRecord>> {
    let filter = ImageFilter {
        image_status: Some("active".into()),
        analysis_status: Some("analyzed".into()),
        ..ImageFilter::default()
    };
    Ok(state.db().images(&caller.account, &filter).await?)
}

fn required<'a>(q: &'a std::collections::HashMap<String, String>, key: &str) -> ApiResult<&'a str> {
    q.get(key)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("query parameter {key} is required")))
}

fn page(images: Vec<Value>) -> Value {
    json!({"page": 1, "next_page": false, "returned_count": images.len(), "images": images})
}

/// `GET query/images/by_vulnerability`.
pub(crate) async fn by_vulnerability(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let id = required(&q, "vulnerability_id")?.to_string();
    let namespace = q.get("namespace").filter(|v| !v.is_empty());
    let package = q.get("affected_package").filter(|v| !v.is_empty());
    let severity = q.get("severity").filter(|v| !v.is_empty());
    let vendor_only = parse_bool(
        "vendor_only",
        q.get("vendor_only").map(String::as_str),
        true,
    )?;
    let mut out = Vec::new();
    for r in analysed(&state, &caller).await? {
        let analysis = state.analysis(&r.digest).await?;
        let v = state
            .engine()
            .vulnerabilities(analysis)
            .await
            .map_err(|e| ApiError::internal("matching vulnerabilities", &e))?;
        let hits: Vec<Value> = v
            .report
            .findings
            .iter()
            .filter(|f| f.vuln == id || f.aliases.contains(&id))
            .filter(|f| namespace.is_none_or(|n| f.feed_group == *n))
            .filter(|f| package.is_none_or(|p| f.package.name == *p))
            .filter(|f| severity.is_none_or(|s| f.severity.as_str().eq_ignore_ascii_case(s)))
            .filter(|f| !(vendor_only && matches!(f.fix, anchorage_model::FixState::WontFix)))
            .map(|f| {
                json!({
                    "name": f.package.name,
                    "version": f.package.version,
                    "type": f.package.package_type.as_str(),
                    "namespace": f.feed_group,
                    "severity": f.severity.as_str(),
                })
            })
            .collect();
        if !hits.is_empty() {
            out.push(json!({"image": image_json(&r), "vulnerable_packages": hits}));
        }
    }
    Ok(Json(page(out)))
}

/// `GET query/images/by_package`.
pub(crate) async fn by_package(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let name = required(&q, "name")?.to_string();
    let version = q.get("version").filter(|v| !v.is_empty());
    let kind = q.get("package_type").filter(|v| !v.is_empty());
    let mut out = Vec::new();
    for r in analysed(&state, &caller).await? {
        let analysis = state.analysis(&r.digest).await?;
        let hits: Vec<Value> = analysis
            .packages
            .iter()
            .filter(|p| p.name == name)
            .filter(|p| version.is_none_or(|v| p.version == *v))
            .filter(|p| kind.is_none_or(|k| p.package_type.as_str().eq_ignore_ascii_case(k)))
            .map(|p| json!({"name": p.name, "version": p.version, "type": p.package_type.as_str()}))
            .collect();
        if !hits.is_empty() {
            out.push(json!({"image": image_json(&r), "packages": hits}));
        }
    }
    Ok(Json(page(out)))
}
