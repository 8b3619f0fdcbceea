//! An account's registry access for pulls: its stored registries (matched by `host[:port]`),
//! opened with the sealer, plus the registries the operator allows over plain HTTP.

use anchorage_engine::ImageAccess;
use anchorage_image::RegistryCredential;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The access an account's pulls use.
pub(crate) async fn account_access(state: &AppState, account: &str) -> ApiResult<ImageAccess> {
    let mut access = ImageAccess {
        insecure_registries: state.inner.config.insecure_registries.clone(),
        ..ImageAccess::default()
    };
    for r in state.db().registries(account).await? {
        let password = state
            .inner
            .sealer
            .open(&r.sealed_secret)
            .map_err(|e| ApiError::internal("opening a stored registry password", &e))?;
        if !r.registry_verify {
            access.insecure_registries.push(r.registry.clone());
        }
        access.credentials.push(RegistryCredential {
            registry: r.registry,
            username: r.registry_user,
            password,
        });
    }
    Ok(access)
}
