//! Excel import: the template to download, and an upload that is checked whole and
//! either written whole or rejected with a report of every bad row.

use super::{Ctx, render};
use crate::AppState;
use crate::api::import::{XLSX, download};
use crate::auth::PageUser;
use crate::error::{PageError, RowMessage, row_message};
use aftercare_service::ServiceError;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Which import a page is: the installed base (schools and equipment) or the parts
/// catalogue. Everything else of the two pages is the same.
pub struct ImportKind {
    pub heading: String,
    pub step1_text: String,
    /// The file to start from: the template, or the catalogue's own export.
    pub start_href: &'static str,
    pub start_id: &'static str,
    pub start_label: String,
    pub action: &'static str,
    pub form_id: &'static str,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub c: Ctx,
    pub kind: ImportKind,
    pub rows: Vec<RowMessage>,
    pub error: String,
    /// What was written, when the last upload was.
    pub done: String,
}

impl ImportPage {
    pub fn new(c: Ctx, kind: ImportKind) -> ImportPage {
        ImportPage { c, kind, rows: Vec::new(), error: String::new(), done: String::new() }
    }
}

fn page(st: &AppState, u: &PageUser) -> Result<Ctx, PageError> {
    if !u.actor.can_edit_installed_base() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    Ok(Ctx::new(st, u, "/import", u.tr.t("nav.import")).crumb(u.tr.t("nav.import"), "/import"))
}

fn installed_base(u: &PageUser) -> ImportKind {
    ImportKind {
        heading: u.tr.t("nav.import"),
        step1_text: u.tr.t("import.step1_text"),
        start_href: "/import/template",
        start_id: "template-link",
        start_label: u.tr.t("import.download_template"),
        action: "/import",
        form_id: "import-form",
    }
}

pub async fn view_import_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let c = page(&st, &u)?;
    Ok(render(&ImportPage::new(c, installed_base(&u))))
}

pub async fn view_import_template_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let bytes = st.svc.import_template(u.tr.is_en())?;
    Ok(download(bytes, XLSX, &u.tr.t("import.template_file")))
}

pub async fn view_import_post(State(st): State<AppState>, u: PageUser, mp: Multipart) -> Result<Response, PageError> {
    let c = page(&st, &u)?;
    let (tr, actor) = (u.tr, u.actor.clone());
    answer_upload(&u, ImportPage::new(c, installed_base(&u)), mp, |bytes| async move {
        let s = st.svc.import_xlsx(&actor, &bytes).await?;
        Ok(tr.tf("import.done", &[("customers", &s.customers.to_string()), ("equipment", &s.equipment.to_string())]))
    })
    .await
}

/// Reads an upload (`_csrf` and `file`), checks the token, runs `import` on the file and
/// renders the page with what was written, or with every bad row and nothing written.
pub(crate) async fn answer_upload<F, Fut>(
    u: &PageUser,
    mut p: ImportPage,
    mut mp: Multipart,
    import: F,
) -> Result<Response, PageError>
where
    F: FnOnce(Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<String, ServiceError>>,
{
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
    let status = if broken {
        p.error = u.tr.t("import.too_large");
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        u.check_csrf(&csrf)?;
        match file {
            None => {
                p.error = u.tr.t("import.no_file");
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Some(bytes) => match import(bytes).await {
                Ok(done) => {
                    p.done = done;
                    StatusCode::OK
                }
                Err(ServiceError::Import(rows)) => {
                    p.rows = rows.iter().map(|r| row_message(u.tr, r)).collect();
                    p.error = u.tr.tf("import.rejected", &[("n", &p.rows.len().to_string())]);
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Err(ServiceError::Invalid(fe)) => {
                    p.error = fe.0.iter().map(|x| u.tr.field_error(x)).collect::<Vec<_>>().join("; ");
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Err(e) => return Err(PageError::from_service(u.tr, e)),
            },
        }
    };
    Ok((status, render(&p)).into_response())
}
