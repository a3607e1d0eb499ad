//! Multipart form bodies of submissions (`multipart/form-data`, what harmony-py sends): text fields and at
//! most one shape file part, read by `multer` with a limit on the whole stream. Pure: a byte stream in,
//! fields out; no HTTP types, so the `multipart` fuzz target compiles this file on its own.

use bytes::Bytes;
use futures_util::Stream;

/// A submission's multipart form.
#[derive(Debug, Default, PartialEq)]
pub struct Form {
    /// Text fields in order, names as sent.
    pub fields: Vec<(String, String)>,
    /// The `shapefile` (or `shape`) part: its bytes and MIME type.
    pub shapefile: Option<(Bytes, String)>,
}

/// Why a multipart body was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// The body grew past the limit while it was read.
    #[error("the multipart body is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Harmony takes one shape per request.
    #[error("Only one shapefile may be uploaded")]
    TwoShapefiles,
    /// A text field held bytes that are not UTF-8.
    #[error("form field {0:?} is not UTF-8 text")]
    NotText(String),
    /// The `Content-Type` has no usable boundary, or the body is not multipart as it claims.
    #[error("the multipart body could not be read: {0}")]
    Malformed(#[source] multer::Error),
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Result<String, FormError> {
    multer::parse_boundary(content_type).map_err(FormError::Malformed)
}

/// Reads a multipart body of at most `limit` bytes.
pub async fn read<S, O, E>(body: S, boundary: String, limit: u64) -> Result<Form, FormError>
where
    S: Stream<Item = Result<O, E>> + Send + 'static,
    O: Into<Bytes> + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit));
    let mut multipart = multer::Multipart::with_constraints(body, boundary, constraints);
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or_default().to_string();
        if name.eq_ignore_ascii_case("shapefile") || name.eq_ignore_ascii_case("shape") {
            if form.shapefile.is_some() {
                return Err(FormError::TwoShapefiles);
            }
            let mime = field.content_type().map_or("application/octet-stream".to_string(), ToString::to_string);
            form.shapefile = Some((field.bytes().await.map_err(refused)?, mime));
        } else {
            let value = field.bytes().await.map_err(refused)?;
            let value = String::from_utf8(value.to_vec()).map_err(|_| FormError::NotText(name.clone()))?;
            form.fields.push((name, value));
        }
    }
    Ok(form)
}

fn refused(error: multer::Error) -> FormError {
    match error {
        multer::Error::StreamSizeExceeded { limit } | multer::Error::FieldSizeExceeded { limit, .. } => {
            FormError::TooLarge { limit }
        }
        other => FormError::Malformed(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&str]) -> Vec<Result<Bytes, std::io::Error>> {
        parts.iter().map(|part| Ok(Bytes::from(part.replace('\n', "\r\n")))).collect()
    }

    async fn check(parts: &[&str], limit: u64) -> Result<Form, FormError> {
        read(futures_util::stream::iter(body(parts)), "hq".into(), limit).await
    }

    #[tokio::test]
    async fn fields_and_one_shapefile_are_read_and_everything_else_refused() {
        let field =
            |name: &str, value: &str| format!("--hq\nContent-Disposition: form-data; name=\"{name}\"\n\n{value}\n");
        let shape = "--hq\nContent-Disposition: form-data; name=\"shapefile\"; filename=\"a.json\"\nContent-Type: application/geo+json\n\n{}\n";
        let form =
            check(&[&field("variable", "all"), &field("granuleId", "G1"), shape, "--hq--\n"], 1 << 20).await.unwrap();
        assert_eq!(form.fields, [("variable".into(), "all".into()), ("granuleId".into(), "G1".into())]);
        assert_eq!(form.shapefile, Some((Bytes::from("{}"), "application/geo+json".into())));
        assert!(matches!(check(&[shape, shape, "--hq--\n"], 1 << 20).await, Err(FormError::TwoShapefiles)));
        let big = field("variable", &"a".repeat(2000));
        // Split across chunks, as a body arrives: the limit is on the whole stream.
        let (head, tail) = big.split_at(1000);
        assert!(matches!(check(&[head, tail, "--hq--\n"], 1500).await, Err(FormError::TooLarge { limit: 1500 })));
        assert!(matches!(check(&["no boundary at all"], 1 << 20).await, Err(FormError::Malformed(_))));
        let latin1: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from(
            b"--hq\r\nContent-Disposition: form-data; name=\"variable\"\r\n\r\n\xe9\r\n--hq--\r\n".to_vec(),
        ))];
        let not_text = read(futures_util::stream::iter(latin1), "hq".into(), 1 << 20).await;
        assert!(matches!(not_text, Err(FormError::NotText(name)) if name == "variable"));
        assert!(matches!(boundary("multipart/form-data"), Err(FormError::Malformed(_))));
        assert_eq!(boundary("multipart/form-data; boundary=hq").unwrap(), "hq");
    }
}
