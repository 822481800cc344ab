//! One error type per audience: `ApiError` answers programs with
//! `{"error": {"code", "message"}}`; `PageError` answers people with a page in their
//! language (sign-in redirect, or an error page showing an operation id that is also
//! in the log, so support can find it).

use crate::i18n::Tr;
use aftercare_service::ServiceError;
use aftercare_service::excel::RowError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldMessage {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowMessage {
    pub sheet: String,
    pub row: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable: `bad_request`, `invalid`, `unauthorized`, `forbidden`, `not_found`,
    /// `duplicate`, `stale`, `insufficient_stock`, `too_many_attempts`, `import_rejected`, `internal`.
    pub code: String,
    /// A sentence in the caller's language.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowMessage>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds until a rate-limited caller may write again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: String) -> ApiError {
        ApiError {
            status,
            body: ErrorBody { code: code.into(), message, fields: Vec::new(), rows: Vec::new() },
            retry_after: None,
        }
    }

    pub fn bad_request(tr: Tr, detail: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("{}: {detail}", tr.t("error.bad_request")))
    }

    pub fn from_service(tr: Tr, e: ServiceError) -> ApiError {
        match e {
            ServiceError::Invalid(fe) => {
                let fields: Vec<FieldMessage> = fe
                    .0
                    .iter()
                    .map(|f| FieldMessage { field: f.field.clone(), code: f.code.into(), message: tr.field_error(f) })
                    .collect();
                let message = fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ");
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    body: ErrorBody { code: "invalid".into(), message, fields, rows: Vec::new() },
                    retry_after: None,
                }
            }
            ServiceError::Duplicate(field) => {
                let f = aftercare_domain::FieldError { field: field.into(), code: "duplicate", area: None };
                let message = tr.field_error(&f);
                ApiError {
                    status: StatusCode::CONFLICT,
                    body: ErrorBody {
                        code: "duplicate".into(),
                        message: message.clone(),
                        fields: vec![FieldMessage { field: field.into(), code: "duplicate".into(), message }],
                        rows: Vec::new(),
                    },
                    retry_after: None,
                }
            }
            ServiceError::Import(rows) => {
                let rows: Vec<RowMessage> = rows.iter().map(|r| row_message(tr, r)).collect();
                let message = format!("{} ({})", tr.t("error.import_rejected"), rows.len());
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    body: ErrorBody { code: "import_rejected".into(), message, fields: Vec::new(), rows },
                    retry_after: None,
                }
            }
            ServiceError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", tr.t("error.not_found")),
            ServiceError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", tr.t("error.forbidden")),
            ServiceError::Unauthorized => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", tr.t("error.unauthorized"))
            }
            ServiceError::Throttled => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", tr.t("error.throttled"))
            }
            ServiceError::RateLimited { retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    tr.tf("error.rate_limited", &[("s", &retry_after.to_string())]),
                )
            },
            ServiceError::Stale => ApiError::new(StatusCode::CONFLICT, "stale", tr.t("error.stale")),
            ServiceError::Overlap { who, trip } => ApiError::new(
                StatusCode::CONFLICT,
                "overlap",
                tr.tf("error.trip_overlap", &[("who", &who), ("trip", &trip)]),
            ),
            ServiceError::Insufficient { part, warehouse, on_hand } => ApiError::new(
                StatusCode::CONFLICT,
                "insufficient_stock",
                tr.tf(
                    "error.insufficient_stock",
                    &[("part", &part), ("warehouse", &warehouse), ("on_hand", &on_hand.to_string())],
                ),
            ),
            ServiceError::Transition { action, status, reason } => {
                let action_label = tr.t(&format!("ticket.action.{action}"));
                let message = match reason {
                    Some(r) => tr.tf(
                        "error.precondition",
                        &[("action", &action_label), ("reason", &tr.t(&format!("precondition.{r}")))],
                    ),
                    None => tr.tf(
                        "error.transition",
                        &[("action", &action_label), ("status", &tr.t(&format!("ticket.status.{status}")))],
                    ),
                };
                ApiError::new(
                    StatusCode::CONFLICT,
                    if reason.is_some() { "precondition" } else { "illegal_transition" },
                    message,
                )
            }
            ServiceError::Internal(detail) => {
                let op = crate::auth::operation_id();
                tracing::error!(operation = %op, error = %detail, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", tr.tf("error.internal", &[("op", &op)]))
            }
        }
    }
}

/// "第 12 行：序列号：已存在" / "Row 12: Serial no.: already exists".
pub fn row_message(tr: Tr, r: &RowError) -> RowMessage {
    let f = aftercare_domain::FieldError { field: r.field.clone(), code: r.code, area: None };
    let field_label = if r.field == "customer_code" { tr.t("field.customer_code") } else { tr.field(&r.field) };
    let rule = tr.t(&format!("rule.{}", f.code));
    let sep = if tr.is_en() { ": " } else { "：" };
    RowMessage {
        sheet: r.sheet.clone(),
        row: r.row,
        field: r.field.clone(),
        code: r.code.into(),
        message: format!(
            "{} {}{sep}{field_label}{sep}{rule}",
            r.sheet,
            tr.tf("import.row", &[("n", &r.row.to_string())])
        ),
    }
}

/// `?` on a service call: the error in the current request's language ([`crate::i18n::current`]).
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        ApiError::from_service(crate::i18n::current(), e)
    }
}

/// `?` on a service call in a page handler, in the current request's language.
impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> PageError {
        PageError::from_service(crate::i18n::current(), e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(ErrorResponse { error: self.body })).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(s));
        }
        r
    }
}

/// An error on a page request.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then come back.
    Login {
        next: String,
    },
    Page {
        tr: Tr,
        status: StatusCode,
        message: String,
    },
}

impl PageError {
    pub fn from_service(tr: Tr, e: ServiceError) -> PageError {
        if matches!(e, ServiceError::Unauthorized) {
            return PageError::Login { next: "/".into() };
        }
        let api = ApiError::from_service(tr, e);
        PageError::Page { tr, status: api.status, message: api.body.message }
    }

    /// The sentence a page error shows (none for a redirect to sign in).
    pub fn message(&self) -> Option<String> {
        match self {
            PageError::Page { message, .. } => Some(message.clone()),
            PageError::Login { .. } => None,
        }
    }

    pub fn status(tr: Tr, status: StatusCode, key: &str) -> PageError {
        PageError::Page { tr, status, message: tr.t(key) }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login { next } => {
                let next: String = url_encode(&next);
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            PageError::Page { tr, status, message } => {
                (status, crate::views::error_page(tr, status, &message)).into_response()
            }
        }
    }
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parameter a query-string rejection names: axum says "Failed to deserialize query
/// string: page: invalid digit found in string".
pub fn query_field(text: &str) -> Option<String> {
    let rest = text.split_once("query string: ")?.1;
    let (field, _) = rest.split_once(": ")?;
    let ok = !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c));
    ok.then(|| field.to_owned())
}
