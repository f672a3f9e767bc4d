//! The Lambda function that runs thunks, created or updated from an image
//! the user pushed: GetFunction; if it exists UpdateFunctionCode (the image
//! URI) then UpdateFunctionConfiguration, else CreateFunction; each change
//! waited for until Lambda reports it done. Owns the settings sent (memory,
//! timeout, /tmp size, environment) and the errors; ignores where the
//! image came from. Region, credentials and endpoint come only from the
//! standard AWS chain (`AWS_ENDPOINT_URL_LAMBDA` included).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::operation::update_function_code::builders::UpdateFunctionCodeFluentBuilder;
use aws_sdk_lambda::operation::update_function_configuration::builders::UpdateFunctionConfigurationFluentBuilder;
use aws_sdk_lambda::types::{
    Architecture, Environment, EphemeralStorage, FunctionCode, PackageType,
};
use aws_sdk_lambda::Client;

/// Lambda's limits on the settings (docs/lambda.md, "Deploying").
const MEMORY_MB: std::ops::RangeInclusive<i32> = 128..=10_240;
const TIMEOUT_SECS: std::ops::RangeInclusive<i32> = 1..=900;
const EPHEMERAL_MB: std::ops::RangeInclusive<i32> = 512..=10_240;

/// How long a create or update may take to settle (an image function is
/// optimized by Lambda before it runs: seconds to minutes).
const SETTLE: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("{0}")]
    Invalid(String),
    #[error("AWS configuration: no region (set AWS_REGION or a profile's region)")]
    NoRegion,
    #[error("function {0} does not exist; creating it needs --role ARN (its execution role: docs/lambda.md, \"Deploying\")")]
    NoRole(String),
    #[error("Lambda {op} {function}: {message}")]
    Api {
        op: &'static str,
        function: String,
        message: String,
    },
}

/// What to deploy and how the function is set up.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSettings {
    pub name: String,
    /// An image in ECR (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG`
    /// or `@sha256:…`).
    pub image_uri: String,
    /// The execution role; needed only to create the function.
    pub role: Option<String>,
    /// More memory also gives more vCPU (1769 MB = one vCPU, 6 at 10 GB).
    pub memory_mb: i32,
    pub timeout_secs: i32,
    /// `/tmp`: the function's object cache and job dirs.
    pub ephemeral_mb: i32,
    /// `GGNINJA_BUCKET` in the function's environment.
    pub bucket: String,
    /// One control-plane call's limit, retries included.
    pub api_timeout: Duration,
}

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub created: bool,
    pub arn: String,
}

impl FunctionSettings {
    pub fn new(name: &str, image_uri: &str, bucket: &str) -> FunctionSettings {
        FunctionSettings {
            name: name.to_string(),
            image_uri: image_uri.to_string(),
            role: None,
            memory_mb: 4096,
            timeout_secs: 900,
            ephemeral_mb: 10_240,
            bucket: bucket.to_string(),
            api_timeout: Duration::from_secs(30),
        }
    }

    /// The settings Lambda would refuse, refused before any call.
    pub fn check(&self) -> Result<(), DeployError> {
        let range = |what: &str, v: i32, r: std::ops::RangeInclusive<i32>| {
            if r.contains(&v) {
                Ok(())
            } else {
                Err(DeployError::Invalid(format!(
                    "{what} {v} is outside Lambda's {}..={}",
                    r.start(),
                    r.end()
                )))
            }
        };
        range("--memory", self.memory_mb, MEMORY_MB)?;
        range("--timeout", self.timeout_secs, TIMEOUT_SECS)?;
        range("ephemeral storage", self.ephemeral_mb, EPHEMERAL_MB)?;
        if self.image_uri.is_empty() || self.name.is_empty() || self.bucket.is_empty() {
            return Err(DeployError::Invalid(
                "the image URI, function name and bucket must not be empty".into(),
            ));
        }
        Ok(())
    }

    /// The bucket, and the object cache's share of `/tmp`: 5/8, the rest
    /// for job dirs (inputs are hard links into the cache, so mostly
    /// outputs and executable copies).
    fn environment(&self) -> Environment {
        let cache = (self.ephemeral_mb as u64) * (1 << 20) / 8 * 5;
        Environment::builder()
            .variables("GGNINJA_BUCKET", &self.bucket)
            .variables("GGNINJA_CACHE_BYTES", cache.to_string())
            .build()
    }

    fn ephemeral(&self) -> EphemeralStorage {
        EphemeralStorage::builder()
            .size(self.ephemeral_mb)
            .build()
            .expect("size is set")
    }

    /// CreateFunction: an image function with every setting.
    fn create(&self, b: CreateFunctionFluentBuilder, role: &str) -> CreateFunctionFluentBuilder {
        b.function_name(&self.name)
            .package_type(PackageType::Image)
            .code(FunctionCode::builder().image_uri(&self.image_uri).build())
            .role(role)
            .architectures(Architecture::X8664)
            .memory_size(self.memory_mb)
            .timeout(self.timeout_secs)
            .ephemeral_storage(self.ephemeral())
            .environment(self.environment())
            .description("ggninja build steps (ggninja -t lambda-deploy)")
    }

    /// UpdateFunctionCode: the new image.
    fn update_code(&self, b: UpdateFunctionCodeFluentBuilder) -> UpdateFunctionCodeFluentBuilder {
        b.function_name(&self.name)
            .image_uri(&self.image_uri)
            .architectures(Architecture::X8664)
    }

    /// UpdateFunctionConfiguration: the settings create would give (and
    /// the role, when one is given).
    fn update_config(
        &self,
        b: UpdateFunctionConfigurationFluentBuilder,
    ) -> UpdateFunctionConfigurationFluentBuilder {
        b.function_name(&self.name)
            .memory_size(self.memory_mb)
            .timeout(self.timeout_secs)
            .ephemeral_storage(self.ephemeral())
            .environment(self.environment())
            .set_role(self.role.clone())
    }
}

/// A Lambda client from the standard chain; each call bounded by
/// `api_timeout` (a server that never answers is an error, not a hang).
pub async fn connect(settings: &FunctionSettings) -> Result<Client, DeployError> {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(settings.api_timeout)
                .build(),
        )
        .load()
        .await;
    if conf.region().is_none() {
        return Err(DeployError::NoRegion);
    }
    Ok(Client::new(&conf))
}

/// `connect` and `deploy` on a runtime of their own (the tool has none).
pub fn deploy_blocking(s: &FunctionSettings) -> Result<Deployed, DeployError> {
    s.check()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeployError::Invalid(format!("starting a runtime: {e}")))?;
    rt.block_on(async { deploy(&connect(s).await?, s).await })
}

/// Creates or updates the function; returns what was done.
pub async fn deploy(client: &Client, s: &FunctionSettings) -> Result<Deployed, DeployError> {
    s.check()?;
    let existing = match client.get_function().function_name(&s.name).send().await {
        Ok(out) => Some(out),
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => None,
        Err(e) => return Err(api_error("GetFunction", s, e)),
    };
    let Some(_) = existing else {
        let role = s
            .role
            .as_deref()
            .ok_or(DeployError::NoRole(s.name.clone()))?;
        let out = s
            .create(client.create_function(), role)
            .send()
            .await
            .map_err(|e| api_error("CreateFunction", s, e))?;
        settle(client, s, true).await?;
        return Ok(Deployed {
            created: true,
            arn: out.function_arn().unwrap_or_default().to_string(),
        });
    };
    s.update_code(client.update_function_code())
        .send()
        .await
        .map_err(|e| api_error("UpdateFunctionCode", s, e))?;
    // A configuration change while the code update is in progress is
    // refused (ResourceConflictException): wait for it first.
    settle(client, s, false).await?;
    let out = s
        .update_config(client.update_function_configuration())
        .send()
        .await
        .map_err(|e| api_error("UpdateFunctionConfiguration", s, e))?;
    settle(client, s, false).await?;
    Ok(Deployed {
        created: false,
        arn: out.function_arn().unwrap_or_default().to_string(),
    })
}

/// Waits until a new function is Active, or an update Successful.
async fn settle(client: &Client, s: &FunctionSettings, created: bool) -> Result<(), DeployError> {
    let failed = |e: String| DeployError::Api {
        op: if created {
            "wait for Active"
        } else {
            "wait for update"
        },
        function: s.name.clone(),
        message: e,
    };
    if created {
        client
            .wait_until_function_active_v2()
            .function_name(&s.name)
            .wait(SETTLE)
            .await
            .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
    } else {
        client
            .wait_until_function_updated_v2()
            .function_name(&s.name)
            .wait(SETTLE)
            .await
            .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
    }
    Ok(())
}

/// One failed call as a message that names what went wrong: the service's
/// code and message, or that nothing answered in time.
fn api_error<E>(
    op: &'static str,
    s: &FunctionSettings,
    err: SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> DeployError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = match &err {
        SdkError::TimeoutError(_) => format!(
            "no answer within {:?}: is the endpoint a Lambda control plane? \
             (a local emulator such as cargo-lambda's serves only Invoke)",
            s.api_timeout
        ),
        SdkError::ServiceError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let code = err.code().unwrap_or("no error code");
            let text = err.message().unwrap_or("no message");
            format!("HTTP {}: {code}: {text}", status.unwrap_or(0))
        }
        _ => DisplayErrorContext(&err).to_string(),
    };
    DeployError::Api {
        op,
        function: s.name.clone(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that is never sent anything: only its request builders
    /// are looked at.
    fn offline_client() -> Client {
        let conf = aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .build();
        Client::from_conf(conf)
    }

    fn settings() -> FunctionSettings {
        let mut s = FunctionSettings::new("steps", "1.dkr.ecr.us-east-1.amazonaws.com/g:1", "bkt");
        s.memory_mb = 8192;
        s
    }

    fn var(env: &Option<Environment>, name: &str) -> Option<String> {
        env.as_ref()?.variables()?.get(name).cloned()
    }

    fn bucket_of(env: &Option<Environment>) -> Option<String> {
        var(env, "GGNINJA_BUCKET")
    }

    #[test]
    fn create_sends_an_image_function_with_every_setting() {
        let s = settings();
        let b = s.create(offline_client().create_function(), "arn:aws:iam::1:role/r");
        let i = b.as_input();
        assert_eq!(i.get_function_name().as_deref(), Some("steps"));
        assert_eq!(i.get_package_type(), &Some(PackageType::Image));
        let code = i.get_code().as_ref().unwrap();
        assert_eq!(code.image_uri(), Some(s.image_uri.as_str()));
        assert_eq!(i.get_role().as_deref(), Some("arn:aws:iam::1:role/r"));
        assert_eq!(i.get_memory_size(), &Some(8192));
        assert_eq!(i.get_timeout(), &Some(900));
        assert_eq!(
            i.get_ephemeral_storage().as_ref().map(|e| e.size()),
            Some(10_240)
        );
        assert_eq!(i.get_architectures(), &Some(vec![Architecture::X8664]));
        assert_eq!(bucket_of(i.get_environment()).as_deref(), Some("bkt"));
        let cache = var(i.get_environment(), "GGNINJA_CACHE_BYTES");
        assert_eq!(cache.as_deref(), Some("6710886400"), "5/8 of 10240 MiB");
        // Nothing that belongs to zip functions.
        assert_eq!((i.get_runtime(), i.get_handler()), (&None, &None));
    }

    #[test]
    fn update_sends_the_image_then_the_same_settings() {
        let s = settings();
        let client = offline_client();
        let code = s.update_code(client.update_function_code());
        assert_eq!(
            code.as_input().get_image_uri().as_deref(),
            Some(s.image_uri.as_str())
        );
        assert_eq!(
            code.as_input().get_function_name().as_deref(),
            Some("steps")
        );
        let config = s.update_config(client.update_function_configuration());
        let i = config.as_input();
        assert_eq!(i.get_memory_size(), &Some(8192));
        assert_eq!(i.get_timeout(), &Some(900));
        assert_eq!(
            i.get_ephemeral_storage().as_ref().map(|e| e.size()),
            Some(10_240)
        );
        assert_eq!(bucket_of(i.get_environment()).as_deref(), Some("bkt"));
        // The role is left as it is unless one is given.
        assert_eq!(i.get_role(), &None);
    }

    #[test]
    fn settings_outside_lambdas_limits_are_refused() {
        let mut s = settings();
        assert!(s.check().is_ok());
        s.memory_mb = 64;
        assert!(matches!(s.check(), Err(DeployError::Invalid(m)) if m.contains("--memory 64")));
        let mut s = settings();
        s.timeout_secs = 901;
        assert!(s.check().is_err());
        let mut s = settings();
        s.image_uri.clear();
        assert!(s.check().is_err());
    }
}
