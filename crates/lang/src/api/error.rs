//! Harmony's error body `{code, description}` as a serde type.
//!
//! Pure: no I/O. The server builds these; a client deserializes them (keeping `code` and `description` intact).

use serde::{Deserialize, Serialize};

/// The JSON body Harmony answers with on an error, e.g.
/// `{"code":"harmony.NotFoundError","description":"Error: Unable to find job 1234"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `harmony.<ErrorClassName>` (or `openapi.ValidationError`).
    pub code: String,
    /// Human text, conventionally starting with `Error: `.
    pub description: String,
}

impl ErrorBody {
    /// Builds the body Harmony sends for error class `class` (`NotFoundError`) and `message` (no `Error: ` prefix).
    ///
    /// ```
    /// let body = harmonyql_lang::api::error::ErrorBody::new("ConflictError", "Job status cannot be updated");
    /// assert_eq!(body.code, "harmony.ConflictError");
    /// assert_eq!(body.description, "Error: Job status cannot be updated");
    /// ```
    pub fn new(class: &str, message: &str) -> Self {
        ErrorBody { code: format!("harmony.{class}"), description: format!("Error: {message}") }
    }

    /// The description without Harmony's `Error: ` prefix.
    pub fn message(&self) -> &str {
        self.description.strip_prefix("Error: ").unwrap_or(&self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_round_trips_with_harmony_field_names() {
        let cases = [
            (
                ErrorBody::new("NotFoundError", "Unable to find job x"),
                r#"{"code":"harmony.NotFoundError","description":"Error: Unable to find job x"}"#,
            ),
            (ErrorBody::new("ConflictError", "a"), r#"{"code":"harmony.ConflictError","description":"Error: a"}"#),
        ];
        for (body, json) in cases {
            assert_eq!(serde_json::to_string(&body).unwrap(), json);
            let back: ErrorBody = serde_json::from_str(json).unwrap();
            assert_eq!(back, body);
        }
    }

    #[test]
    fn message_strips_the_error_prefix_only_when_present() {
        let bare = ErrorBody { code: "x".into(), description: "plain".into() };
        assert_eq!(bare.message(), "plain");
        assert_eq!(ErrorBody::new("A", "b c").message(), "b c");
    }
}
