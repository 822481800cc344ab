//! Know-how (manual §2.6, §2.7(3)): anyone on staff writes down a fault, its cause, the fix
//! and how to prevent it; the engineer publishes it (or sends it back with a reason), and
//! then everyone finds it in the search and sees it suggested on the tickets of the same
//! model or fault. A resolved ticket whose fix nothing published covers offers "write it
//! down", the form filled from the ticket.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::articles::{
    ArticleAction, ArticleInput, ArticleReviewInput, ArticleStatus, allowed_actions, may_edit, may_read, may_review,
    may_write, worth_writing,
};
use aftercare_domain::tickets::TicketStatus;
use aftercare_domain::{ArticleId, TicketId};
use aftercare_store::articles as store;
use aftercare_store::{Page, Paged};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use aftercare_store::articles::{ArticleFilter, ArticleRow};

/// An article as its page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    pub article: ArticleRow,
    pub actions: Vec<ArticleAction>,
    pub can_edit: bool,
}

/// What a ticket's page shows of the know-how.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct TicketKnowHow {
    /// Published articles on the same model or fault.
    pub suggested: Vec<ArticleRow>,
    /// Offer "write it down": resolved, and nothing covers it yet.
    pub worth_writing: bool,
}

impl Services {
    async fn readable_article(&self, by: &Actor, id: ArticleId) -> Result<ArticleRow> {
        let a = store::get(&self.db, id.0).await?;
        if !may_read(&by.roles, a.author_id == by.id.0, a.status) {
            // Someone else's draft is as if it did not exist; a school reads none.
            return Err(if may_write(&by.roles) { ServiceError::NotFound } else { ServiceError::Forbidden });
        }
        Ok(a)
    }

    fn article_view(&self, by: &Actor, article: ArticleRow) -> ArticleView {
        let mine = article.author_id == by.id.0;
        ArticleView {
            actions: allowed_actions(&by.roles, mine, article.status),
            can_edit: may_edit(&by.roles, mine, article.status),
            article,
        }
    }

    pub async fn write_article(&self, by: &Actor, input: &ArticleInput, now: DateTime<Utc>) -> Result<ArticleView> {
        require(may_write(&by.roles))?;
        let a = input.validate()?;
        let id = store::create(&self.db, &self.writer(by), by.id.0, &a, now).await?;
        self.article(by, ArticleId(id)).await
    }

    /// Rewrites an article at `version`. The author's edit goes back to review; a
    /// reviewer's correction keeps its status.
    pub async fn edit_article(
        &self,
        by: &Actor,
        id: ArticleId,
        version: i64,
        input: &ArticleInput,
        now: DateTime<Utc>,
    ) -> Result<ArticleView> {
        let old = self.readable_article(by, id).await?;
        require(may_edit(&by.roles, old.author_id == by.id.0, old.status))?;
        let a = input.validate()?;
        let status =
            if may_review(&by.roles) && old.author_id != by.id.0 { old.status } else { ArticleStatus::Submitted };
        store::update(&self.db, &self.writer(by), id.0, version, &a, status, now).await?;
        self.article(by, id).await
    }

    pub async fn article(&self, by: &Actor, id: ArticleId) -> Result<ArticleView> {
        let a = self.readable_article(by, id).await?;
        Ok(self.article_view(by, a))
    }

    /// Published ones and one's own; a reviewer sees every one (`status` narrows it).
    pub async fn articles(&self, by: &Actor, mut f: ArticleFilter, page: Page) -> Result<Paged<ArticleRow>> {
        require(may_write(&by.roles))?;
        if !may_review(&by.roles) {
            f.readable_by = Some(by.id.0);
        }
        Ok(store::list(&self.db, &f, page).await?)
    }

    pub async fn review_article(
        &self,
        by: &Actor,
        id: ArticleId,
        action: ArticleAction,
        input: &ArticleReviewInput,
        now: DateTime<Utc>,
    ) -> Result<ArticleView> {
        let a = self.readable_article(by, id).await?;
        require(may_review(&by.roles) && a.author_id != by.id.0)?;
        if !allowed_actions(&by.roles, false, a.status).contains(&action) {
            return Err(ServiceError::Transition {
                action: action.as_str(),
                status: a.status.as_str(),
                reason: Some(match a.status {
                    ArticleStatus::Published => "article_published",
                    _ => "article_rejected",
                }),
            });
        }
        let reason = input.reason(action)?;
        let to = match action {
            ArticleAction::Publish => ArticleStatus::Published,
            ArticleAction::Reject => ArticleStatus::Rejected,
        };
        store::review(&self.db, &self.writer(by), id.0, to, reason.as_deref(), now).await?;
        self.article(by, id).await
    }

    /// The know-how for a ticket's page (staff only; a school gets nothing).
    pub async fn ticket_know_how(&self, by: &Actor, ticket: TicketId, status: TicketStatus) -> Result<TicketKnowHow> {
        if !may_write(&by.roles) {
            return Ok(TicketKnowHow::default());
        }
        let suggested = store::for_ticket(&self.db, ticket.0, 5).await?;
        let resolved = matches!(status, TicketStatus::Resolved | TicketStatus::Closed);
        let written = if resolved { store::count_for_ticket(&self.db, ticket.0).await? } else { 0 };
        Ok(TicketKnowHow {
            worth_writing: worth_writing(resolved, usize::try_from(written).unwrap_or(1), suggested.len()),
            suggested,
        })
    }
}
