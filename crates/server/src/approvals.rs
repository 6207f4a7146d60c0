//! The approvals queue: every draft waiting for approval with the post it answers, its checks
//! as the approver would send it, and whether the person may approve it; and
//! `GET /api/approvals`.

use askama::Template;
use axum::{Json, Router, extract::State, response::Response, routing::get};
use engage::{DraftStatus, Verdict, approval};
use jiff::Timestamp;
use serde::Serialize;
use store::DraftFilter;

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    draft::{CheckRow, DraftRow, load_draft_data, writer},
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The routes of the approvals queue.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(approvals))
        .route("/api/approvals", get(api_approvals))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/approvals",
    "Drafts waiting for approval, with whether you may approve each.",
    "viewer",
    &[],
)];

/// A draft waiting for approval.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRow {
    /// The draft.
    pub row: DraftRow,
    /// The post it answers (masked), if any.
    pub post_text: Option<String>,
    /// The post's author.
    pub post_author: Option<String>,
    /// The checks as the approver would send it.
    pub checks: Vec<CheckRow>,
    /// Whether the person asking may approve it.
    pub may_approve: bool,
    /// Why not, when they may not.
    pub why_not: String,
}

async fn load_approvals(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<ApprovalRow>, ApiError> {
    let runtime = std::sync::Arc::clone(&state.engage);
    let who = user.actor();
    blocking(state, move |store| {
        let drafts = store.drafts(&DraftFilter {
            statuses: vec![DraftStatus::AwaitingApproval],
            limit: 200,
            ..DraftFilter::default()
        })?;
        let checker = runtime.checker()?;
        let mut out = Vec::with_capacity(drafts.len());
        for d in drafts {
            let data = load_draft_data(store, &d.id)?;
            let report = data.report(checker, &data.draft.text, &writer(store, &d)?);
            let why_not = match approval::approve(
                &mut data.draft.clone(),
                &who,
                None,
                &Verdict::default(),
                Timestamp::now(),
            ) {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            };
            let view = match (&data.post, &data.analysis) {
                (Some(p), a) => Some((
                    crate::views::mask(&p.text, a.as_ref().map_or(&[][..], |a| &a.personal_data)),
                    p.author.handle.clone(),
                )),
                _ => None,
            };
            out.push(ApprovalRow {
                may_approve: why_not.is_empty(),
                why_not,
                checks: report.rows,
                post_text: view.as_ref().map(|v| v.0.clone()),
                post_author: view.map(|v| v.1),
                row: DraftRow::new(data.draft),
            });
        }
        Ok(out)
    })
    .await
}

#[derive(Template)]
#[template(path = "engage/approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    rows: Vec<ApprovalRow>,
}

/// `GET /approvals`: the queue; each item shows the post, the draft and its checks.
pub async fn approvals(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::ApproveDrafts)?;
    let rows = load_approvals(&state, user).await?;
    Ok(render(&ApprovalsPage {
        layout: Layout::new("Approvals", &page, "approvals"),
        rows,
    }))
}

/// `GET /api/approvals`.
pub async fn api_approvals(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ApprovalRow>>, ApiError> {
    user.require(Action::ApproveDrafts)?;
    Ok(Json(load_approvals(&state, &user).await?))
}
