//! Requests as values: method, URL, ordered parameters and how they travel; rendered as URLs and curl commands.
//!
//! Pure. A [`Request`] holds parameters in the order harmony-py 1.8 builds its `params` dict, so that
//! the three encodings harmony-py uses (query string, multipart form, EDR JSON body) come out
//! byte-for-byte the same. Secrets never live here: a curl rendering is given masked headers.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A parameter value, typed the way harmony-py's `params` dict holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (numbers already formatted, booleans as `true`/`false`, number lists comma-joined).
    Text(String),
    /// An integer (`maxResults`, `width`, `height`): a string in forms, a number in EDR JSON.
    Integer(i64),
    /// A list of strings: repeated keys in query strings and forms, an array in EDR JSON.
    List(Vec<String>),
}

/// One named parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The wire name (`subset`, `granuleId`, `parameter-name`, ...).
    pub name: String,
    /// Its value.
    pub value: Value,
}

/// How a request's parameters travel when it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// In the query string; no body.
    Query,
    /// As `multipart/form-data` fields (OGC Coverages submissions), with no query string.
    Multipart,
    /// As a JSON object (OGC EDR submissions), with no query string.
    Json,
}

/// A shape file to upload with a Coverages submission, as the multipart part `shapefile`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shapefile {
    /// The local path, as the user gave it.
    pub path: String,
    /// The part's content type, from the extension.
    pub mime: String,
}

/// A request header for renderings; secret values are represented only by [`HeaderValue::Masked`].
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: HeaderValue,
}

/// A header value as shown to people.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderValue {
    /// Shown as is.
    Plain(String),
    /// A secret; always shown as `*****`.
    Masked,
}

/// A Harmony request: everything needed to send it, nothing secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// HTTP method used when the request is sent.
    pub method: Method,
    /// Root URL of the environment, without trailing slash.
    pub root: String,
    /// Path below the root, starting with `/`.
    pub path: String,
    /// Parameters in harmony-py's order.
    pub params: Vec<Param>,
    /// How the parameters travel when the request is sent.
    pub body: Body,
    /// A shape file to upload (Coverages only).
    pub shapefile: Option<Shapefile>,
}

/// Why a request cannot be rendered in the asked form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A shape file cannot travel in a URL.
    #[error("a request with a shape file cannot be written as a URL: the file must be uploaded (use `curl` instead)")]
    ShapefileInUrl,
}

impl Request {
    /// A request with no parameters.
    pub fn new(method: Method, root: &str, path: impl Into<String>, body: Body) -> Self {
        Request {
            method,
            root: root.trim_end_matches('/').to_owned(),
            path: path.into(),
            params: Vec::new(),
            body,
            shapefile: None,
        }
    }

    /// Adds a text parameter (builder style).
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push(Param { name: name.to_owned(), value: Value::Text(value.into()) });
        self
    }

    /// Adds an integer parameter (builder style).
    pub fn integer(mut self, name: &str, value: i64) -> Self {
        self.params.push(Param { name: name.to_owned(), value: Value::Integer(value) });
        self
    }

    /// Adds a list parameter (builder style).
    pub fn list(mut self, name: &str, values: Vec<String>) -> Self {
        self.params.push(Param { name: name.to_owned(), value: Value::List(values) });
        self
    }

    /// The URL without any query string.
    pub fn endpoint(&self) -> String {
        format!("{}{}", self.root, self.path)
    }

    /// The parameters as query pairs: lists become repeated keys (harmony-py's `params=` form).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for param in &self.params {
            match &param.value {
                Value::Text(text) => pairs.push((param.name.clone(), text.clone())),
                Value::Integer(number) => pairs.push((param.name.clone(), number.to_string())),
                Value::List(items) => pairs.extend(items.iter().map(|item| (param.name.clone(), item.clone()))),
            }
        }
        pairs
    }

    /// The parameters as multipart fields: like [`Request::query_pairs`], except that a `granuleId`
    /// list is one comma-joined field, as harmony-py sends it to keep the number of parts down.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        for param in &self.params {
            match &param.value {
                Value::List(items) if param.name == "granuleId" => fields.push((param.name.clone(), items.join(","))),
                Value::List(items) => fields.extend(items.iter().map(|item| (param.name.clone(), item.clone()))),
                Value::Text(text) => fields.push((param.name.clone(), text.clone())),
                Value::Integer(number) => fields.push((param.name.clone(), number.to_string())),
            }
        }
        fields
    }

    /// The parameters as the EDR JSON body, keys in order.
    pub fn json_body(&self) -> Json {
        let mut object = Map::new();
        for param in &self.params {
            let value = match &param.value {
                Value::Text(text) => Json::String(text.clone()),
                Value::Integer(number) => Json::from(*number),
                Value::List(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
            };
            object.insert(param.name.clone(), value);
        }
        Json::Object(object)
    }

    /// The whole request as one GET URL, like harmony-py's `request_as_url`.
    ///
    /// ```
    /// use harmonyql_lang::api::request::{Body, Method, Request};
    /// let request = Request::new(Method::Get, "https://harmony.earthdata.nasa.gov", "/capabilities", Body::Query)
    ///     .text("collectionid", "C1234-PROV");
    /// assert_eq!(request.to_url().unwrap(), "https://harmony.earthdata.nasa.gov/capabilities?collectionid=C1234-PROV");
    /// ```
    pub fn to_url(&self) -> Result<String, RenderError> {
        if self.shapefile.is_some() {
            return Err(RenderError::ShapefileInUrl);
        }
        Ok(self.sent_url_with(true))
    }

    /// The URL the request is sent to: with the query string only when parameters travel in it.
    pub fn sent_url(&self) -> String {
        self.sent_url_with(self.body == Body::Query)
    }

    fn sent_url_with(&self, with_query: bool) -> String {
        let mut url = self.endpoint();
        let pairs = self.query_pairs();
        if with_query && !pairs.is_empty() {
            url.push('?');
            url.push_str(&encode_query(&pairs));
        }
        url
    }

    /// The request as a curl command that sends exactly what HarmonyQL sends.
    ///
    /// `headers` are the headers the sender adds; secrets among them must be [`HeaderValue::Masked`].
    pub fn to_curl(&self, headers: &[Header]) -> String {
        let mut words: Vec<String> = vec!["curl".into(), "-L".into()];
        if self.method != Method::Get && !(self.method == Method::Post && self.body != Body::Query) {
            words.push(format!("-X {}", self.method.as_str()));
        }
        for header in headers {
            let value = match &header.value {
                HeaderValue::Plain(value) => value.as_str(),
                HeaderValue::Masked => "*****",
            };
            words.push(format!("-H {}", shell_quote(&format!("{}: {}", header.name, value))));
        }
        match self.body {
            Body::Query => {}
            Body::Multipart => {
                for (name, value) in self.form_fields() {
                    words.push(format!("--form-string {}", shell_quote(&format!("{name}={value}"))));
                }
                if let Some(shapefile) = &self.shapefile {
                    let part = format!("shapefile=@{};filename=shapefile;type={}", shapefile.path, shapefile.mime);
                    words.push(format!("-F {}", shell_quote(&part)));
                }
            }
            Body::Json => {
                words.push(format!("-H {}", shell_quote("Content-Type: application/json")));
                words.push(format!("--data-raw {}", shell_quote(&self.json_body().to_string())));
            }
        }
        words.push(shell_quote(&self.sent_url()));
        words.join(" ")
    }
}

/// Encodes query pairs as Python's `urllib.parse.urlencode` does (what requests uses): `quote_plus`,
/// keeping only `A-Z a-z 0-9 _ . - ~` and turning spaces into `+`.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        quote_plus(name, &mut out);
        out.push('=');
        quote_plus(value, &mut out);
    }
    out
}

fn quote_plus(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
}

/// Quotes a word for POSIX shells with single quotes.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "https://harmony.earthdata.nasa.gov";

    #[test]
    fn query_encoding_matches_python_quote_plus() {
        let pairs = vec![
            ("subset".to_owned(), r#"time("2010-12-01T00:00:00":*)"#.to_owned()),
            ("coords".to_owned(), "POINT(-40 10)".to_owned()),
            ("granuleName".to_owned(), "ab?d*~".to_owned()),
        ];
        assert_eq!(
            encode_query(&pairs),
            "subset=time%28%222010-12-01T00%3A00%3A00%22%3A%2A%29&coords=POINT%28-40+10%29&granuleName=ab%3Fd%2A~"
        );
    }

    #[test]
    fn granule_ids_are_one_form_field_but_repeated_in_urls() {
        let request = Request::new(Method::Post, ROOT, "/C1/x", Body::Multipart)
            .list("granuleId", vec!["G1".into(), "G2".into()])
            .list("variable", vec!["a".into(), "b".into()]);
        assert_eq!(
            request.form_fields(),
            vec![
                ("granuleId".into(), "G1,G2".into()),
                ("variable".into(), "a".into()),
                ("variable".into(), "b".into())
            ]
        );
        assert_eq!(request.to_url().unwrap(), format!("{ROOT}/C1/x?granuleId=G1&granuleId=G2&variable=a&variable=b"));
        assert_eq!(request.sent_url(), format!("{ROOT}/C1/x"));
    }

    #[test]
    fn json_bodies_keep_order_and_integers() {
        let request = Request::new(Method::Post, ROOT, "/e", Body::Json)
            .text("forceAsync", "true")
            .integer("maxResults", 2)
            .list("label", vec!["x".into()]);
        assert_eq!(request.json_body().to_string(), r#"{"forceAsync":"true","maxResults":2,"label":["x"]}"#);
    }

    #[test]
    fn curl_masks_secrets_and_quotes_words() {
        let request = Request::new(Method::Get, ROOT, "/capabilities", Body::Query).text("collectionid", "C1234-PROV");
        let headers = [Header { name: "Authorization".into(), value: HeaderValue::Masked }];
        assert_eq!(
            request.to_curl(&headers),
            "curl -L -H 'Authorization: *****' 'https://harmony.earthdata.nasa.gov/capabilities?collectionid=C1234-PROV'"
        );
        let form = Request::new(Method::Post, ROOT, "/c", Body::Multipart).text("grid", "it's");
        assert_eq!(form.to_curl(&[]), r"curl -L --form-string 'grid=it'\''s' 'https://harmony.earthdata.nasa.gov/c'");
    }

    #[test]
    fn a_shapefile_cannot_be_a_url() {
        let mut request = Request::new(Method::Post, ROOT, "/c", Body::Multipart);
        request.shapefile = Some(Shapefile { path: "a.geojson".into(), mime: "application/geo+json".into() });
        assert_eq!(request.to_url(), Err(RenderError::ShapefileInUrl));
        assert!(
            request.to_curl(&[]).contains("-F 'shapefile=@a.geojson;filename=shapefile;type=application/geo+json'")
        );
    }
}
