//! Remote execution pieces that talk to AWS: the S3 object store (objects
//! named by their content hash), the concurrent uploader in front of it,
//! the Lambda request/response protocol and the function that serves it,
//! and the deploy tool's image writer and control-plane calls.
//! The only crate of the workspace with tokio and the AWS SDK; the local build
//! never links it.

pub mod client;
pub mod deploy;
pub mod engine;
pub mod error;
pub mod function;
pub mod memo;
pub mod objects;
pub mod protocol;
pub mod retry;
mod signing;
pub mod upload;

pub use client::S3Settings;
pub use error::Error;
pub use objects::ObjectStore;
pub use retry::RetryPolicy;
pub use upload::{UploadReport, Uploader};
