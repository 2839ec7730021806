//! Handlers of the `kinesisvideo` API.

use reelay_api_common::Deps;
use reelay_aws::{NotImplementedService, Service};
use std::sync::Arc;

/// The handler sets this crate provides, one per botocore service model.
pub fn services(_deps: &Deps) -> Vec<Arc<dyn Service>> {
    vec![Arc::new(NotImplementedService(&reelay_aws::generated::kinesisvideo::MODEL))]
}
