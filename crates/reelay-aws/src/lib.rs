//! The AWS wire layer of reelay.
//!
//! `generated/` holds one static model per botocore service (written by `reelay-codegen`).
//! This crate interprets those tables: it routes a request to an operation ([`router`]), turns
//! the HTTP bindings into one canonical JSON object keyed by model member names while checking
//! every modelled constraint ([`codec::decode_input`]), encodes a handler's answer back onto
//! the wire ([`codec::encode_output`]), and renders errors in each service's own format
//! ([`error`]). Handlers are hand-written in the `reelay-api-*` crates against [`Service`].
//!
//! **Architecture invariant:** only this crate knows restJson1; handlers see typed structures.

pub mod codec;
pub mod error;
pub mod generated;
pub mod model;
pub mod router;
mod service;
mod values;

pub use error::ApiError;
pub use model::{ErrorCode, ServiceId, ServiceModel};
pub use service::{BoxBody, NotImplementedService, Output, RequestContext, Service, from_input};
pub use values::{Blob, Timestamp};

/// Look up a service model by its botocore name.
pub fn model_by_name(name: &str) -> Option<&'static ServiceModel> {
    generated::ALL
        .iter()
        .copied()
        .find(|m| m.botocore_name == name)
}

/// Look up a service model by id.
pub fn model(id: ServiceId) -> &'static ServiceModel {
    generated::ALL
        .iter()
        .copied()
        .find(|m| m.id == id)
        // Every ServiceId variant has exactly one generated model (checked by a unit test).
        .unwrap_or(&generated::ivs::MODEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_id_has_a_model_and_146_operations() {
        let total: usize = generated::ALL.iter().map(|m| m.operations.len()).sum();
        assert_eq!(total, 146);
        for m in generated::ALL {
            assert_eq!(model(m.id).botocore_name, m.botocore_name);
        }
    }
}
