//! The server's errors and their HTTP form: Harmony's JSON `{code, description}` with the right status.
//!
//! Every handler returns `Result<_, ServerError>`; nothing else turns errors into responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::engine::EngineError;
use harmonyql_lang::api::error::ErrorBody;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Bad parameters or body (400 `harmony.RequestValidationError`).
    #[error("{0}")]
    BadRequest(String),
    /// Credentials missing or wrong (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Unknown job, collection, page or file (404).
    #[error("{0}")]
    NotFound(String),
    /// Invalid job state change (409).
    #[error("{0}")]
    Conflict(String),
    /// A valid request the services cannot do (422).
    #[error("{0}")]
    Unsupported(String),
    /// The service failed a synchronous request (400 `harmony.ServiceError`, Harmony's default status).
    #[error("{0}")]
    ServiceFailed(String),
    /// A body over the size limit (413), answered before the rest of it is read.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A range outside the file (416).
    #[error("{0}")]
    RangeNotSatisfiable(String),
    /// Our own failure (500); the details are logged, not sent.
    #[error("{0}")]
    Internal(String),
}

impl ServerError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ServerError::BadRequest(_) => (StatusCode::BAD_REQUEST, "RequestValidationError"),
            ServerError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UnauthorizedError"),
            ServerError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError"),
            ServerError::Conflict(_) => (StatusCode::CONFLICT, "ConflictError"),
            ServerError::Unsupported(_) => (StatusCode::UNPROCESSABLE_ENTITY, "UnsupportedOperation"),
            ServerError::ServiceFailed(_) => (StatusCode::BAD_REQUEST, "ServiceError"),
            ServerError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeError"),
            ServerError::RangeNotSatisfiable(_) => (StatusCode::RANGE_NOT_SATISFIABLE, "RequestValidationError"),
            ServerError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServerError"),
        }
    }

    /// The status code this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }
}

impl From<EngineError> for ServerError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::NotFound(id) => ServerError::NotFound(format!("Unable to find job {id}")),
            EngineError::Conflict(conflict) => ServerError::Conflict(conflict.0),
            EngineError::Store(store) => ServerError::Internal(store.to_string()),
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, class) = self.parts();
        let message = match &self {
            ServerError::Internal(detail) => {
                tracing::error!(detail, "internal error");
                "Internal server error".to_string()
            }
            other => other.to_string(),
        };
        (status, axum::Json(ErrorBody::new(class, &message))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_harmony_status_and_code() {
        let cases = [
            (ServerError::BadRequest("b".into()), 400, "harmony.RequestValidationError"),
            (ServerError::Unauthorized("u".into()), 401, "harmony.UnauthorizedError"),
            (ServerError::NotFound("n".into()), 404, "harmony.NotFoundError"),
            (ServerError::Conflict("c".into()), 409, "harmony.ConflictError"),
            (ServerError::Unsupported("x".into()), 422, "harmony.UnsupportedOperation"),
            (ServerError::PayloadTooLarge("p".into()), 413, "harmony.PayloadTooLargeError"),
            (ServerError::Internal("secret detail".into()), 500, "harmony.ServerError"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(error.parts().1, code.trim_start_matches("harmony."));
        }
    }
}
