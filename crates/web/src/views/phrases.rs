//! The courteous phrase library page (客服文明用语): every member of staff reads and copies
//! the phrases, grouped by scene in the order of a call; the manager adds, edits,
//! deactivates and reorders them. The forbidden phrases (禁用语) stand beside as a reminder.

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, PageId, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::PhraseId;
use aftercare_domain::contacts::Scene;
use aftercare_service::phrases::PhraseRow;
use aftercare_service::phrases::{FORBIDDEN_PHRASES, PhraseInput, PhrasePatch};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

const PATH: &str = "/phrases";

/// A piece of a phrase's text: the blanks an agent fills in (XX, X) are marked.
pub struct Piece {
    pub text: String,
    pub blank: bool,
}

/// Splits text into runs, marking runs of the placeholder letter `X`.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for ch in text.chars() {
        let blank = ch == 'X';
        match out.last_mut() {
            Some(p) if p.blank == blank => p.text.push(ch),
            _ => out.push(Piece { text: ch.to_string(), blank }),
        }
    }
    out
}

pub struct PhraseItem {
    pub row: PhraseRow,
    pub pieces: Vec<Piece>,
    pub first: bool,
    pub last: bool,
}

pub struct SceneGroup {
    pub scene: &'static str,
    pub items: Vec<PhraseItem>,
}

/// A phrase form's values, as saved or as typed.
#[derive(Default, Clone)]
pub struct PhraseForm {
    pub scene: String,
    pub title: String,
    pub text: String,
    pub position: String,
}

impl PhraseForm {
    fn of(r: &PhraseRow) -> PhraseForm {
        PhraseForm {
            scene: r.scene.as_str().into(),
            title: r.title.clone(),
            text: r.text.clone(),
            position: r.position.to_string(),
        }
    }
    fn from_post(form: &[(String, String)]) -> PhraseForm {
        let v = |k: &str| field(form, k).unwrap_or_default();
        PhraseForm { scene: v("scene"), title: v("title"), text: v("text"), position: v("position") }
    }
}

#[derive(Template)]
#[template(path = "phrases.html")]
pub struct PhrasesPage {
    pub c: Ctx,
    pub can_edit: bool,
    pub groups: Vec<SceneGroup>,
    pub total: usize,
    pub inactive: usize,
    pub company: String,
    pub forbidden: &'static [&'static str],
    pub new_form: PhraseForm,
    pub new_errors: FormErrors,
    pub open_new: bool,
    /// The phrase whose edit failed: its values as typed and the errors.
    pub edit_id: Option<i64>,
    pub edit_form: PhraseForm,
    pub edit_errors: FormErrors,
}

impl PhrasesPage {
    pub fn scenes(&self) -> Vec<&'static str> {
        Scene::ALL.iter().map(|s| s.as_str()).collect()
    }
    pub fn scene_label(&self, s: &str) -> String {
        self.c.t(&format!("phrases.scene.{s}"))
    }
    pub fn scene_hint(&self, s: &str) -> String {
        self.c.t(&format!("phrases.scene_hint.{s}"))
    }
    pub fn editing(&self, id: &i64) -> bool {
        self.edit_id == Some(*id)
    }
    /// The values an item's edit form shows.
    pub fn form_of(&self, r: &PhraseRow) -> PhraseForm {
        if self.edit_id == Some(r.id) { self.edit_form.clone() } else { PhraseForm::of(r) }
    }
    pub fn errors_of(&self, id: &i64) -> Option<&FormErrors> {
        (self.edit_id == Some(*id)).then_some(&self.edit_errors)
    }
    pub fn company_note(&self) -> String {
        self.c.tr.tf("phrases.company_note", &[("company", &self.company)])
    }
    pub fn summary(&self) -> String {
        self.c.tr.tf("phrases.summary", &[("n", &self.total.to_string()), ("k", &self.inactive.to_string())])
    }
}

async fn phrases_page(st: &AppState, u: &PageUser, ok: Option<&str>) -> Result<PhrasesPage, PageError> {
    let can_edit = u.actor.is_admin_or_manager();
    let rows = if can_edit { st.svc.all_phrases(&u.actor).await } else { st.svc.phrases(&u.actor).await }?;
    let total = rows.len();
    let inactive = rows.iter().filter(|r| !r.active).count();
    let mut groups: Vec<SceneGroup> =
        Scene::ALL.iter().map(|s| SceneGroup { scene: s.as_str(), items: Vec::new() }).collect();
    for r in rows {
        if let Some(g) = groups.iter_mut().find(|g| g.scene == r.scene.as_str()) {
            g.items.push(PhraseItem { pieces: pieces(&r.display), row: r, first: false, last: false });
        }
    }
    for g in &mut groups {
        let n = g.items.len();
        for (i, it) in g.items.iter_mut().enumerate() {
            it.first = i == 0;
            it.last = i + 1 == n;
        }
    }
    groups.retain(|g| can_edit || !g.items.is_empty());
    let title = u.tr.t("nav.phrases");
    let c = Ctx::new(st, u, PATH, title.clone()).crumb(title, PATH).flash_from(ok);
    Ok(PhrasesPage {
        c,
        can_edit,
        groups,
        total,
        inactive,
        company: st.svc.company_name().await,
        forbidden: &FORBIDDEN_PHRASES,
        new_form: PhraseForm::default(),
        new_errors: FormErrors::default(),
        open_new: false,
        edit_id: None,
        edit_form: PhraseForm::default(),
        edit_errors: FormErrors::default(),
    })
}

pub async fn view_phrases_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&phrases_page(&st, &u, q.ok.as_deref()).await?))
}

fn may_edit(u: &PageUser) -> Result<(), PageError> {
    if u.actor.is_admin_or_manager() {
        Ok(())
    } else {
        Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"))
    }
}

fn opt(form: &[(String, String)], k: &str) -> Option<String> {
    field(form, k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A position typed on a form: empty is none; anything else must be a number.
fn position(form: &[(String, String)]) -> Result<Option<i32>, aftercare_service::ServiceError> {
    match opt(form, "position") {
        None => Ok(None),
        Some(v) => {
            v.parse::<i32>().map(Some).map_err(|_| aftercare_domain::FieldErrors::single("position", "invalid").into())
        }
    }
}

fn back(id: i64, ok: &str) -> Response {
    Redirect::to(&format!("{PATH}?ok={ok}#phrase-{id}")).into_response()
}

pub async fn view_phrase_create_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let result = match position(&form) {
        Ok(position) => {
            let input = PhraseInput {
                scene: opt(&form, "scene"),
                title: opt(&form, "title"),
                text: opt(&form, "text"),
                position,
                active: None,
            };
            st.svc.create_phrase(&u.actor, &input, Utc::now()).await
        }
        Err(e) => Err(e),
    };
    let errors = match result {
        Ok(r) => return Ok(back(r.id, "phrase_added")),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = phrases_page(&st, &u, None).await?;
    page.new_form = PhraseForm::from_post(&form);
    page.new_errors = errors;
    page.open_new = true;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_phrase_edit_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let result = match position(&form) {
        Ok(position) => {
            let patch = PhrasePatch {
                scene: Some(field(&form, "scene").unwrap_or_default()),
                // An emptied title takes the text's first words again.
                title: Some(field(&form, "title").unwrap_or_default()),
                text: Some(field(&form, "text").unwrap_or_default()),
                position,
                active: None,
            };
            st.svc.update_phrase(&u.actor, PhraseId(id), &patch, Utc::now()).await
        }
        Err(e) => Err(e),
    };
    let errors = match result {
        Ok(r) => return Ok(back(r.id, "phrase_saved")),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = phrases_page(&st, &u, None).await?;
    page.edit_id = Some(id);
    page.edit_form = PhraseForm::from_post(&form);
    page.edit_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_phrase_move_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let up = field(&form, "to").as_deref() == Some("up");
    let r = st.svc.move_phrase(&u.actor, PhraseId(id), up, Utc::now()).await?;
    Ok(back(r.id, "phrase_moved"))
}

pub async fn view_phrase_active_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let active = matches!(field(&form, "active").as_deref().map(str::trim), Some("1" | "true"));
    let patch = PhrasePatch { active: Some(active), ..Default::default() };
    let r = st.svc.update_phrase(&u.actor, PhraseId(id), &patch, Utc::now()).await?;
    Ok(back(r.id, if r.active { "phrase_reactivated" } else { "phrase_deactivated" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_are_marked() {
        let p = pieces("工单号是XXXX，维修人员会在XX前联系");
        let marked: Vec<_> = p.iter().filter(|x| x.blank).map(|x| x.text.as_str()).collect();
        assert_eq!(marked, ["XXXX", "XX"]);
        assert_eq!(p.iter().map(|x| x.text.as_str()).collect::<String>(), "工单号是XXXX，维修人员会在XX前联系");
    }
}
