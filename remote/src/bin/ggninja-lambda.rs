//! The AWS Lambda function: the `lambda_runtime` loop around
//! `ggninja_remote::function`. Each event is a `protocol::Request` as JSON;
//! the answer is always a `protocol::Response` (a request that does not
//! parse is an `Error` status, not a function error). Owns start-up only.

use ggninja_remote::function::Function;
use ggninja_remote::protocol::{Request, Response};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let function = match Function::from_env().await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ggninja-lambda: cannot start: {e}");
            std::process::exit(1);
        }
    };
    // Lives as long as the process; the handler borrows it.
    let function: &'static Function = Box::leak(Box::new(function));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let response = match serde_json::from_value::<Request>(event.payload) {
                Ok(req) => function.handle(req).await,
                Err(e) => Response::error(format!("the request does not parse: {e}")),
            };
            Ok::<_, lambda_runtime::Error>(response)
        },
    ))
    .await
}
