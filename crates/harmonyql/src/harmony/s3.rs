//! Direct S3 access to Harmony's results (`s3://` links) with the temporary credentials of `/cloud-access`,
//! read through object_store. Meant for users working in AWS us-west-2, where Harmony stages results.
//!
//! The endpoint is AWS S3 in us-west-2 unless the standard `AWS_ENDPOINT_URL` variable names another
//! (an S3-compatible server, as the tests do). Credentials stay in `Secret`s and reach only object_store's
//! request signer: never a message, log line or URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore as _, ObjectStoreExt as _};
use tokio_util::sync::CancellationToken;

use crate::harmony::client::AwsCredentials;
use crate::harmony::download::{Event, PartFile};
use crate::harmony::error::{Error, Result};

/// The region Harmony stages results in; direct access works only from there.
pub const HARMONY_REGION: &str = "us-west-2";

/// Reads `s3://BUCKET/KEY` objects with one set of temporary credentials.
#[derive(Debug)]
pub struct S3Reader {
    credentials: AwsCredentials,
    endpoint: Option<String>,
    stores: Mutex<HashMap<String, Arc<AmazonS3>>>,
}

impl S3Reader {
    /// A reader using `credentials`, against `AWS_ENDPOINT_URL` when it is set, else AWS itself.
    pub fn new(credentials: AwsCredentials) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok().filter(|url| !url.trim().is_empty());
        S3Reader::with_endpoint(credentials, endpoint)
    }

    /// A reader against an explicit endpoint (`None`: AWS S3 in us-west-2).
    pub fn with_endpoint(credentials: AwsCredentials, endpoint: Option<String>) -> Self {
        S3Reader { credentials, endpoint, stores: Mutex::new(HashMap::new()) }
    }

    /// The endpoint in use, if not AWS's own.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn store(&self, url: &str, bucket: &str) -> Result<Arc<AmazonS3>> {
        let mut stores = self.stores.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(store) = stores.get(bucket) {
            return Ok(store.clone());
        }
        let mut builder = AmazonS3Builder::new()
            .with_region(HARMONY_REGION)
            .with_bucket_name(bucket)
            .with_access_key_id(&self.credentials.access_key_id)
            .with_secret_access_key(self.credentials.secret_access_key.expose())
            .with_token(self.credentials.session_token.expose());
        if let Some(endpoint) = &self.endpoint {
            // S3-compatible servers on loopback speak plain HTTP and path-style URLs.
            builder = builder.with_endpoint(endpoint).with_allow_http(true).with_virtual_hosted_style_request(false);
        }
        let store = Arc::new(builder.build().map_err(|source| s3_error(url, source))?);
        stores.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// Streams one object into `part`, from `part.received` on (a resumed download asks only for the rest).
    pub(crate) async fn fetch(
        &self,
        url: &str,
        part: &mut PartFile,
        send: &(dyn Fn(Event) + Sync),
        cancel: &CancellationToken,
    ) -> Result<()> {
        let (bucket, key) = split_s3_url(url)?;
        let store = self.store(url, &bucket)?;
        let location = ObjectPath::parse(&key).unwrap_or_else(|_| ObjectPath::from(key.as_str()));
        let stopped = || Error::Cancelled { what: format!("downloading {url}") };
        let head = tokio::select! {
            _ = cancel.cancelled() => return Err(stopped()),
            head = store.head(&location) => head.map_err(|source| s3_error(url, source))?,
        };
        let size = head.size;
        send(Event::Total(size));
        if part.received > size {
            send(Event::Restart(part.received));
            part.restart().await?;
        }
        if part.received == size {
            return Ok(());
        }
        let options = GetOptions {
            range: (part.received > 0).then_some(GetRange::Offset(part.received)),
            ..GetOptions::default()
        };
        let result = tokio::select! {
            _ = cancel.cancelled() => return Err(stopped()),
            result = store.get_opts(&location, options) => result.map_err(|source| s3_error(url, source))?,
        };
        let mut stream = result.into_stream();
        loop {
            let chunk = tokio::select! {
                _ = cancel.cancelled() => return Err(stopped()),
                chunk = stream.next() => chunk,
            };
            match chunk {
                Some(Ok(bytes)) => {
                    part.write(&bytes).await?;
                    send(Event::Bytes(bytes.len() as u64));
                }
                Some(Err(_)) | None if part.received < size => {
                    return Err(Error::Incomplete { url: url.to_owned(), received: part.received, expected: size });
                }
                Some(Err(source)) => return Err(s3_error(url, source)),
                None => return Ok(()),
            }
        }
    }
}

/// `s3://BUCKET/KEY` → (`BUCKET`, `KEY`).
///
/// ```
/// use harmonyql::harmony::s3::split_s3_url;
/// assert_eq!(split_s3_url("s3://b/public/j/1/f.h5").unwrap(), ("b".to_owned(), "public/j/1/f.h5".to_owned()));
/// assert!(split_s3_url("https://b/k").is_err());
/// ```
pub fn split_s3_url(url: &str) -> Result<(String, String)> {
    let bad = |message: &str| Error::BadResponse { url: url.to_owned(), message: message.to_owned() };
    let rest = url.strip_prefix("s3://").ok_or_else(|| bad("not an s3:// link"))?;
    let (bucket, key) = rest.split_once('/').ok_or_else(|| bad("an s3:// link needs a bucket and a key"))?;
    if bucket.is_empty() || key.is_empty() {
        return Err(bad("an s3:// link needs a bucket and a key"));
    }
    Ok((bucket.to_owned(), key.to_owned()))
}

fn s3_error(url: &str, source: object_store::Error) -> Error {
    Error::S3 { url: url.to_owned(), source: Box::new(source) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmony::auth::Secret;

    #[test]
    fn s3_links_split_into_bucket_and_key() {
        let cases = [
            ("s3://bucket/a/b.h5", Some(("bucket", "a/b.h5"))),
            ("s3://bucket/", None),
            ("s3:///key", None),
            ("s3://bucket", None),
            ("https://bucket/key", None),
        ];
        for (url, expected) in cases {
            let got = split_s3_url(url).ok();
            assert_eq!(got.as_ref().map(|(b, k)| (b.as_str(), k.as_str())), expected, "{url}");
        }
    }

    #[test]
    fn a_reader_never_shows_its_credentials() {
        let reader = S3Reader::with_endpoint(
            AwsCredentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: Secret::new("very-secret-key"),
                session_token: Secret::new("session-token-value"),
                expiration: None,
            },
            Some("http://127.0.0.1:1".into()),
        );
        let shown = format!("{reader:?}");
        assert!(!shown.contains("very-secret-key") && !shown.contains("session-token-value"), "{shown}");
    }
}
