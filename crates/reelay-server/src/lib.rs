//! The reelay server: command line, configuration, the HTTP listener and the dispatch of every
//! request to the S3 endpoint, the test-support endpoints or an AWS service's handlers.
//!
//! **Architecture invariant:** this crate owns sockets, the runtime and the clock; the crates
//! below it are handed time and bytes.

pub mod auth;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod server;

pub use config::{AuthMode, Config};
pub use server::{Running, start, start_with_services};
