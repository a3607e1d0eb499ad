//! Staging results into an S3-compatible server (`hq serve --stage-s3 URL`), as Harmony stages into its
//! bucket in us-west-2: every output of a work item is also uploaded to `s3://harmony-local-staging/
//! public/{jobID}/{workItemId}/{file}`, so `linktype=s3` links open and `/cloud-access` credentials work.
//!
//! Wraps any `Processor`; knows nothing of HTTP routes or of the client.

use std::path::Path;
use std::sync::Arc;

use object_store::ObjectStoreExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;

use crate::engine::Processor;
use crate::sample::SampleGranule;
use crate::transform::{Operation, Output, TransformError};
use crate::view::{BUCKET, staged_key};

/// Where and as whom results are staged. The same keys are handed out by `/cloud-access`.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Staging {
    /// The S3-compatible endpoint, e.g. `http://127.0.0.1:5000`.
    pub endpoint: String,
    /// Access key ID (`AWS_ACCESS_KEY_ID` of `hq serve`, else a fixed local one).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret key never reaches a log line.
        f.debug_struct("S3Staging").field("endpoint", &self.endpoint).field("bucket", &BUCKET).finish_non_exhaustive()
    }
}

impl S3Staging {
    /// Staging into `endpoint` with the keys in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, or local
    /// defaults (S3-compatible test servers accept any).
    pub fn from_env(endpoint: &str) -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
        };
        S3Staging {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            access_key_id: var("AWS_ACCESS_KEY_ID", "hqlocalstagingkey"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY", "hqlocalstagingsecret"),
        }
    }

    fn store(&self) -> Result<AmazonS3, object_store::Error> {
        AmazonS3Builder::new()
            .with_region(REGION)
            .with_bucket_name(BUCKET)
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_access_key_id(&self.access_key_id)
            .with_secret_access_key(&self.secret_access_key)
            .build()
    }
}

/// Harmony's region.
pub const REGION: &str = "us-west-2";

/// A processor that runs another and uploads its outputs to the staging bucket.
pub struct StagingProcessor {
    inner: Arc<dyn Processor>,
    store: AmazonS3,
}

impl StagingProcessor {
    /// Wraps `inner`; fails if the endpoint URL is not usable.
    pub fn new(inner: Arc<dyn Processor>, staging: &S3Staging) -> Result<Self, object_store::Error> {
        Ok(StagingProcessor { inner, store: staging.store()? })
    }
}

impl Processor for StagingProcessor {
    fn process(
        &self,
        granule: &SampleGranule,
        operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        let outputs = self.inner.process(granule, operation, out_dir)?;
        // The engine runs outputs into `results/{jobID}/{workItemId}/`: the key is those two and the file.
        let item = out_dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u64>().ok());
        let job = out_dir.parent().and_then(Path::file_name).and_then(|n| n.to_str());
        let (Some(item), Some(job)) = (item, job) else {
            return Err(TransformError::Io(format!("cannot stage outputs of {}", out_dir.display())));
        };
        // Called on a blocking thread (the engine's spawn_blocking), where waiting on the runtime is allowed.
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(TransformError::failed("staging needs the server's runtime"))?;
        for output in &outputs {
            let file = output.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let key = ObjectPath::from(staged_key(job, item, &file));
            let bytes = std::fs::read(&output.path)
                .map_err(TransformError::failed(format!("could not read {}", output.path.display())))?;
            runtime
                .block_on(self.store.put(&key, bytes.into()))
                .map_err(TransformError::failed(format!("could not stage {file} to s3://{BUCKET}/{key}")))?;
        }
        Ok(outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_settings_never_show_the_secret_key() {
        let staging = S3Staging {
            endpoint: "http://127.0.0.1:9".into(),
            access_key_id: "id".into(),
            secret_access_key: "do-not-show".into(),
        };
        let shown = format!("{staging:?}");
        assert!(shown.contains("127.0.0.1:9") && !shown.contains("do-not-show"), "{shown}");
    }
}
