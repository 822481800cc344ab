//! The courteous phrase library (客服文明用语, DOMAIN.md §4): prompts on the agent's desk and
//! text to insert into replies. Every member of staff reads the active phrases; the
//! manager (or the administrator) adds, edits, deactivates and reorders them.

use crate::{Actor, Result, Services, require};
use aftercare_domain::FieldErrors;
use aftercare_domain::contacts::Scene;
use aftercare_domain::validation::{optional, required};
pub use aftercare_store::phrases::PhraseRow;
use aftercare_store::phrases::{self as store, PhraseWrite};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The placeholder for the company's name in a stored phrase.
pub const COMPANY_PLACEHOLDER: &str = "{公司}";

/// What an agent must never say (禁用语, DOMAIN.md §4), shown beside the library as a
/// reminder and available to quality checks.
pub const FORBIDDEN_PHRASES: [&str; 7] =
    ["喂，说话呀！", "我不知道", "这不归我管", "刚才不是告诉你了吗", "你自己看", "你去投诉好了", "再不说话我挂了"];

/// The forbidden phrases that occur in `text` (punctuation of the list ignored).
pub fn forbidden_in(text: &str) -> Vec<&'static str> {
    FORBIDDEN_PHRASES
        .iter()
        .filter(|p| {
            let core = p.trim_end_matches(['！', '!', '。']);
            let core = core.split(['，', ',']).next_back().unwrap_or(core);
            text.contains(core)
        })
        .copied()
        .collect()
}

/// A new phrase (`POST /api/v1/phrases`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PhraseInput {
    /// `greeting`, `identify`, `wait`, `repair`, `after_hours`, `complaint`, `suggestion`,
    /// `transfer`, `follow_up`, `closing`, `visit`.
    pub scene: Option<String>,
    /// A short label for the desk's prompt button; the text's start when omitted.
    pub title: Option<String>,
    /// May contain `{公司}`, replaced by the company's name when shown.
    pub text: Option<String>,
    /// Order within the scene; after every other phrase when omitted.
    pub position: Option<i32>,
    pub active: Option<bool>,
}

/// A change to a phrase (`PATCH /api/v1/phrases/{id}`): omitted fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PhrasePatch {
    pub scene: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub position: Option<i32>,
    /// `false` deactivates (no longer offered on the desk), `true` reactivates.
    pub active: Option<bool>,
}

pub const MAX_TEXT: usize = 500;
pub const MAX_TITLE: usize = 20;
pub const POSITIONS: std::ops::RangeInclusive<i32> = 0..=9999;

/// The short label a phrase gets when none is given: its first words.
fn default_title(text: &str) -> String {
    let first = text.split(['，', '。', '？', '！', ',', '?', '!']).next().unwrap_or(text);
    first.chars().take(MAX_TITLE).collect()
}

/// Checks a phrase; `position` stands in for a missing one.
pub fn validate_phrase(input: &PhraseInput, position: i32) -> Result<PhraseWrite, FieldErrors> {
    let mut e = FieldErrors::default();
    let scene = required(&mut e, "scene", input.scene.as_deref(), 30);
    let parsed = Scene::parse(&scene);
    if !scene.is_empty() && parsed.is_none() {
        e.push("scene", "unknown_value");
    }
    // Only read when there is no error, so never the stand-in.
    let scene = parsed.unwrap_or(Scene::Greeting);
    let text = required(&mut e, "text", input.text.as_deref(), MAX_TEXT);
    let title = optional(&mut e, "title", input.title.as_deref(), MAX_TITLE).unwrap_or_else(|| default_title(&text));
    let position = input.position.unwrap_or(position);
    if !POSITIONS.contains(&position) {
        e.push("position", "out_of_range");
    }
    e.into_result(PhraseWrite { scene, title, text, position, active: input.active.unwrap_or(true) })
}

/// The order of the scenes on the desk (the order of a call).
fn scene_rank(scene: Scene) -> usize {
    Scene::ALL.iter().position(|s| *s == scene).unwrap_or(Scene::ALL.len())
}

impl Services {
    /// The company's name as phrases and forms print it (setting `company_name`).
    pub async fn company_name(&self) -> String {
        aftercare_store::settings::setting(&self.db, "company_name")
            .await
            .ok()
            .flatten()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "售后服务中心".into())
    }

    async fn phrase_rows(&self, include_inactive: bool) -> Result<Vec<PhraseRow>> {
        let company = self.company_name().await;
        let mut rows = store::list(&self.db, include_inactive).await?;
        for r in &mut rows {
            r.display = r.text.replace(COMPANY_PLACEHOLDER, &company);
        }
        // Scenes in the order of a call, each by position (a stable sort keeps the store's).
        rows.sort_by_key(|r| scene_rank(r.scene));
        Ok(rows)
    }

    /// The active phrases, by scene in the order of a call, each with `display` (the
    /// company's name filled in): the desk's prompts. Any member of staff.
    pub async fn phrases(&self, by: &Actor) -> Result<Vec<PhraseRow>> {
        require(by.is_staff())?;
        self.phrase_rows(false).await
    }

    /// Every phrase, deactivated ones included (manager or administrator).
    pub async fn all_phrases(&self, by: &Actor) -> Result<Vec<PhraseRow>> {
        require(by.is_admin_or_manager())?;
        self.phrase_rows(true).await
    }

    async fn phrase(&self, id: i64) -> Result<PhraseRow> {
        let company = self.company_name().await;
        let mut r = store::get(&self.db, id).await?;
        r.display = r.text.replace(COMPANY_PLACEHOLDER, &company);
        Ok(r)
    }

    /// Adds a phrase (manager or administrator).
    pub async fn create_phrase(&self, by: &Actor, input: &PhraseInput, now: DateTime<Utc>) -> Result<PhraseRow> {
        require(by.is_admin_or_manager())?;
        let next = store::next_position(&self.db).await?;
        let ph = validate_phrase(input, next)?;
        let id = store::create(&self.db, &self.writer(by), &ph, now).await?;
        self.phrase(id).await
    }

    /// Changes a phrase (manager or administrator); omitted fields stay.
    pub async fn update_phrase(
        &self,
        by: &Actor,
        id: aftercare_domain::PhraseId,
        patch: &PhrasePatch,
        now: DateTime<Utc>,
    ) -> Result<PhraseRow> {
        let id = id.0;
        require(by.is_admin_or_manager())?;
        let before = store::get(&self.db, id).await?;
        let input = PhraseInput {
            scene: Some(patch.scene.clone().unwrap_or_else(|| before.scene.as_str().into())),
            // An explicitly emptied title falls back to the text's start, like on create.
            title: match &patch.title {
                Some(t) => Some(t.clone()),
                None => Some(before.title.clone()),
            },
            text: Some(patch.text.clone().unwrap_or_else(|| before.text.clone())),
            position: Some(patch.position.unwrap_or(before.position)),
            active: Some(patch.active.unwrap_or(before.active)),
        };
        let ph = validate_phrase(&input, before.position)?;
        store::update(&self.db, &self.writer(by), id, &before, &ph, now).await?;
        self.phrase(id).await
    }

    /// Moves a phrase one place up or down within its scene (manager or administrator);
    /// the scene's phrases are renumbered 1, 2, 3 … in their new order.
    pub async fn move_phrase(
        &self,
        by: &Actor,
        id: aftercare_domain::PhraseId,
        up: bool,
        now: DateTime<Utc>,
    ) -> Result<PhraseRow> {
        let id = id.0;
        require(by.is_admin_or_manager())?;
        let me = store::get(&self.db, id).await?;
        let mut scene: Vec<PhraseRow> =
            store::list(&self.db, true).await?.into_iter().filter(|r| r.scene == me.scene).collect();
        let Some(i) = scene.iter().position(|r| r.id == id) else {
            return Err(crate::ServiceError::NotFound);
        };
        let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < scene.len()) };
        if let Some(j) = j {
            scene.swap(i, j);
            let positions: Vec<(i64, i32)> =
                scene.iter().enumerate().map(|(n, r)| (r.id, i32::try_from(n + 1).unwrap_or(i32::MAX))).collect();
            store::set_positions(&self.db, &self.writer(by), id, &positions, now).await?;
        }
        self.phrase(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_needs_a_known_scene_and_text() {
        let e = validate_phrase(&PhraseInput::default(), 1).unwrap_err();
        let f: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(f, [("scene", "required"), ("text", "required")]);
        let bad = PhraseInput { scene: Some("smalltalk".into()), text: Some("x".into()), ..Default::default() };
        assert_eq!(validate_phrase(&bad, 1).unwrap_err().0[0].code, "unknown_value");
        let long = PhraseInput { scene: Some("wait".into()), text: Some("长".repeat(501)), ..Default::default() };
        assert_eq!(validate_phrase(&long, 1).unwrap_err().0[0].code, "too_long");
        let far = PhraseInput {
            scene: Some("wait".into()),
            text: Some("x".into()),
            position: Some(-1),
            ..Default::default()
        };
        assert_eq!(validate_phrase(&far, 1).unwrap_err().0[0].field, "position");
    }

    #[test]
    fn a_phrase_without_title_is_labelled_by_its_first_words() {
        let p = PhraseInput {
            scene: Some("wait".into()),
            text: Some("请您稍等，我马上为您查询。".into()),
            ..Default::default()
        };
        let w = validate_phrase(&p, 7).unwrap();
        assert_eq!(w.title, "请您稍等");
        assert_eq!(w.position, 7);
        assert!(w.active);
    }

    #[test]
    fn forbidden_phrases_are_found_in_text() {
        assert_eq!(forbidden_in("这不归我管，你找别人"), ["这不归我管"]);
        assert_eq!(forbidden_in("喂，说话呀"), ["喂，说话呀！"]);
        assert!(forbidden_in("您好，请问有什么可以帮您？").is_empty());
    }

    #[test]
    fn scenes_follow_the_order_of_a_call() {
        assert!(scene_rank(Scene::Greeting) < scene_rank(Scene::Closing));
        assert!(scene_rank(Scene::Closing) < scene_rank(Scene::Visit));
    }
}
