//! Excel import: the template to download, and an upload that is checked whole and
//! either written whole or rejected with a report of every bad row.

use super::{Ctx, render};
use crate::AppState;
use crate::api::excel::{XLSX, download};
use crate::auth::PageUser;
use crate::error::{PageError, RowMessage, row_message};
use aftercare_service::ServiceError;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub c: Ctx,
    pub rows: Vec<RowMessage>,
    pub error: String,
    pub done: Option<(usize, usize)>,
}

fn page(st: &AppState, u: &PageUser) -> Result<Ctx, PageError> {
    if !u.actor.can_edit_installed_base() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    Ok(Ctx::new(st, u, "/import", u.tr.t("nav.import")).crumb(u.tr.t("nav.import"), "/import"))
}

pub async fn view_import_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let c = page(&st, &u)?;
    Ok(render(&ImportPage { c, rows: Vec::new(), error: String::new(), done: None }))
}

pub async fn view_import_template_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let bytes = st.svc.import_template(u.tr.is_en()).map_err(|e| PageError::from_service(u.tr, e))?;
    Ok(download(bytes, XLSX, &u.tr.t("import.template_file")))
}

pub async fn view_import_post(
    State(st): State<AppState>,
    u: PageUser,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let c = page(&st, &u)?;
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    let mut broken = false;
    loop {
        match mp.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_owned();
                match f.bytes().await {
                    Ok(b) if name == "_csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                    Ok(b) if name == "file" && !b.is_empty() => file = Some(b.to_vec()),
                    Ok(_) => {}
                    Err(_) => broken = true,
                }
            }
            Ok(None) => break,
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    if broken {
        let error = u.tr.t("import.too_large");
        return Ok((StatusCode::PAYLOAD_TOO_LARGE, render(&ImportPage { c, rows: Vec::new(), error, done: None }))
            .into_response());
    }
    u.check_csrf(&csrf)?;
    let Some(bytes) = file else {
        let error = u.tr.t("import.no_file");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&ImportPage { c, rows: Vec::new(), error, done: None }))
            .into_response());
    };
    match st.svc.import_xlsx(&u.actor, &bytes).await {
        Ok(s) => Ok(render(&ImportPage {
            c,
            rows: Vec::new(),
            error: String::new(),
            done: Some((s.customers, s.equipment)),
        })),
        Err(ServiceError::Import(rows)) => {
            let rows: Vec<RowMessage> = rows.iter().map(|r| row_message(u.tr, r)).collect();
            let error = u.tr.tf("import.rejected", &[("n", &rows.len().to_string())]);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&ImportPage { c, rows, error, done: None })).into_response())
        }
        Err(ServiceError::Invalid(fe)) => {
            let error = fe.0.iter().map(|x| u.tr.field_error(x)).collect::<Vec<_>>().join("; ");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&ImportPage { c, rows: Vec::new(), error, done: None }))
                .into_response())
        }
        Err(e) => Err(PageError::from_service(u.tr, e)),
    }
}
