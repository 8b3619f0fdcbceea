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
    let opened = state
        .db()
        .registry_credentials(account, &state.inner.sealer)
        .await
        .map_err(|e| ApiError::internal("opening stored registry passwords", &e))?;
    for c in opened {
        if !c.verify {
            access.insecure_registries.push(c.registry.clone());
        }
        access.credentials.push(RegistryCredential {
            registry: c.registry,
            username: c.username,
            password: c.password,
        });
    }
    Ok(access)
}
