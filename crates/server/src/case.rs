//! One case: its post and thread, the analysis, the rule that opened it, notes and drafts;
//! taking or assigning it, notes, starting a reply from the rule's template, closing it; and
//! `GET /api/inbox/case`.

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use engage::{
    Case, CaseState, Draft, DraftStatus, Inbox, InboxError, Matrix, NewAuditEntry, TemplateValues,
    matrix::format_duration,
};
use jiff::Timestamp;
use model::analysis::Analysis;
use serde::{Deserialize, Serialize};
use store::{DraftFilter, WebStore};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    draft::DraftRow,
    engage_work::active_matrix,
    inbox::{CaseRow, case_href},
    openapi::{ApiRoute, Param},
    page::{Layout, PageContext, render},
    post::{PostDetails, load_post},
    roles::Action,
    views::{PostView, uk_time},
};

/// The routes of the case page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox/case", get(case_page))
        .route("/inbox/case/assign", post(assign))
        .route("/inbox/case/note", post(add_note))
        .route("/inbox/case/reply", post(start_reply))
        .route("/inbox/case/close", post(close))
        .route("/api/inbox/case", get(api_case))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/inbox/case",
    "One case (`id`) with its notes and drafts.",
    "viewer",
    &[Param::query("id", "The case id (`network:root post id`).")],
)];

/// The id of a case in the query string.
#[derive(Debug, Deserialize)]
pub struct CaseParam {
    /// The case id (`network:root post id`).
    pub id: String,
}

/// The rule that opened a case, for people.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    /// The rule's name.
    pub name: String,
    /// Its line in the matrix.
    pub line: usize,
    /// What it says to do.
    pub action: String,
    /// The time limit.
    pub limit: String,
    /// Who may send.
    pub senders: String,
    /// Who must approve.
    pub approval: String,
}

pub(crate) fn rule_view(matrix: &Matrix, case: &Case) -> Option<RuleView> {
    matrix.rule(&case.rule).map(|r| RuleView {
        name: r.name.clone(),
        line: r.line,
        action: r.action.describe(),
        limit: r
            .respond_within
            .map_or_else(|| "none".to_owned(), format_duration),
        senders: if r.senders.is_empty() {
            "nobody (no reply expected)".to_owned()
        } else {
            r.senders
                .iter()
                .map(|s| format!("{} or above", s.label()))
                .collect::<Vec<_>>()
                .join(", ")
        },
        approval: r
            .approval
            .map_or_else(|| "no approval needed".to_owned(), |a| a.label().to_owned()),
    })
}

#[derive(Template)]
#[template(path = "engage/case.html")]
struct CasePage {
    layout: Layout,
    row: CaseRow,
    post: Option<PostView>,
    thread: Vec<PostView>,
    analysis: Option<AnalysisView>,
    rule: Option<RuleView>,
    notes: Vec<(String, String, String)>,
    drafts: Vec<DraftRow>,
    users: Vec<String>,
    can_work: bool,
    can_assign: bool,
    can_reply: bool,
}

/// The analysis as the case page shows it.
pub struct AnalysisView {
    sentiment: String,
    intents: Vec<String>,
    themes: Vec<String>,
    priority: String,
    personal_data: Vec<String>,
    author: Vec<String>,
}

impl AnalysisView {
    fn new(a: &Analysis) -> AnalysisView {
        let mut author = Vec::new();
        if let Some(p) = &a.professional {
            author.push(format!(
                "healthcare professional: {} ({})",
                p.role, p.reason
            ));
        }
        if let Some(j) = &a.journalist {
            author.push(format!("journalist: {} ({})", j.role, j.reason));
        }
        AnalysisView {
            sentiment: format!(
                "{} ({:.2}): {}",
                a.sentiment.label.as_str(),
                a.sentiment.score,
                a.sentiment.reason
            ),
            intents: a
                .intents
                .iter()
                .filter(|i| i.detected)
                .map(|i| {
                    format!(
                        "{} ({:.0}%): {}",
                        i.kind.as_str(),
                        i.probability * 100.0,
                        i.reason
                    )
                })
                .collect(),
            themes: a
                .themes
                .iter()
                .map(|t| format!("{} ({:.0}%)", t.label, t.probability * 100.0))
                .collect(),
            priority: format!("{}: {}", a.priority.score, a.priority.reasons.join("; ")),
            personal_data: a
                .personal_data
                .iter()
                .map(|p| format!("{} (masked): {}", p.kind.as_str(), p.reason))
                .collect(),
            author,
        }
    }
}

/// A case with its notes and drafts (the JSON of `/api/inbox/case`).
#[derive(Debug, Serialize)]
pub struct CaseDetails {
    /// The case.
    pub case: CaseRow,
    /// The rule that opened it.
    pub rule: Option<RuleView>,
    /// Internal notes, oldest first.
    pub notes: Vec<engage::Note>,
    /// Its drafts, newest first.
    pub drafts: Vec<Draft>,
}

async fn load_case(state: &AppState, id: String) -> Result<CaseDetails, ApiError> {
    let now = Timestamp::now();
    blocking(state, move |store| {
        let case = store.case(&id)?.ok_or(ApiError::NotFound)?;
        let matrix = active_matrix(store)?;
        let rule = rule_view(&matrix, &case);
        let notes = store.notes(&id)?;
        let drafts = store.drafts(&DraftFilter {
            case_id: Some(id.clone()),
            ..DraftFilter::default()
        })?;
        Ok(CaseDetails {
            case: CaseRow::new(case, now),
            rule,
            notes,
            drafts,
        })
    })
    .await
}

pub(crate) async fn case_post(state: &AppState, case: &Case) -> Option<PostDetails> {
    load_post(state, case.network, case.post_id.clone())
        .await
        .ok()
}

/// `GET /inbox/case?id=`: the case, its thread, analysis, rule, notes and drafts.
pub async fn case_page(
    State(state): State<AppState>,
    page: PageContext,
    Query(param): Query<CaseParam>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let details = load_case(&state, param.id).await?;
    let post = case_post(&state, &details.case.case).await;
    let users = if Action::AssignCases.allowed(user.user.role) {
        blocking(&state, |store| {
            Ok(store
                .users()?
                .into_iter()
                .filter(|u| u.role.may_work_cases())
                .map(|u| u.name)
                .collect())
        })
        .await?
    } else {
        Vec::new()
    };
    let open_draft = details.drafts.iter().any(|d| {
        matches!(
            d.status,
            DraftStatus::Editing
                | DraftStatus::Rejected
                | DraftStatus::AwaitingApproval
                | DraftStatus::Approved
        )
    });
    let can_work = Action::WorkCases.allowed(user.user.role);
    let page = CasePage {
        layout: Layout::new(format!("Case {}", details.case.case.id), &page, "inbox"),
        can_reply: can_work && !open_draft && !matches!(details.case.case.state, CaseState::Closed),
        can_work,
        can_assign: Action::AssignCases.allowed(user.user.role),
        post: post.as_ref().map(|p| p.view.clone()),
        thread: post.as_ref().map(|p| p.thread.clone()).unwrap_or_default(),
        analysis: post
            .as_ref()
            .and_then(|p| p.stored.analysis.as_ref())
            .map(AnalysisView::new),
        rule: details.rule,
        notes: details
            .notes
            .into_iter()
            .map(|n| (n.author, uk_time(n.at), n.text))
            .collect(),
        drafts: details.drafts.into_iter().map(DraftRow::new).collect(),
        users,
        row: details.case,
    };
    Ok(render(&page))
}

/// `GET /api/inbox/case?id=`.
pub async fn api_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(param): Query<CaseParam>,
) -> Result<Json<CaseDetails>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(load_case(&state, param.id).await?))
}

/// A form about a case.
#[derive(Debug, Deserialize)]
pub struct CaseForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The case.
    pub id: String,
    /// The person to assign it to (assign), the note (note), the reason (close).
    #[serde(default)]
    pub value: String,
}

/// Runs a change to a case in the store: loads it, applies `change`, saves it with its audit.
async fn change_case(
    state: &AppState,
    id: String,
    change: impl FnOnce(&dyn WebStore, &mut Case) -> Result<Vec<NewAuditEntry>, ApiError>
    + Send
    + 'static,
) -> Result<(), ApiError> {
    blocking(state, move |store| {
        let mut case = store.case(&id)?.ok_or(ApiError::NotFound)?;
        let audit = change(store, &mut case)?;
        store.save_case(&case, &audit)?;
        Ok(())
    })
    .await
}

/// `POST /inbox/case/assign`: take the case (value empty or one's own name) or give it to
/// someone (officers and above).
pub async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CaseForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let to = if form.value.trim().is_empty() {
        user.user.name.clone()
    } else {
        form.value.trim().to_owned()
    };
    if to != user.user.name {
        user.require(Action::AssignCases)?;
    }
    let me = user.actor();
    let back = case_href(&form.id);
    change_case(&state, form.id, move |store, case| {
        if store.user_by_name(&to)?.is_none() {
            return Err(ApiError::BadRequest(format!(
                "there is nobody called `{to}`: choose a person from the list"
            )));
        }
        Ok(vec![
            case.assign(&me, &to, Timestamp::now())
                .map_err(|e| ApiError::from(&InboxError::from(e)))?,
        ])
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

/// `POST /inbox/case/close`.
pub async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CaseForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let me = user.actor();
    let back = case_href(&form.id);
    let reason = if form.value.trim().is_empty() {
        "closed".to_owned()
    } else {
        form.value.trim().to_owned()
    };
    change_case(&state, form.id, move |_, case| {
        Ok(vec![
            case.close(&me, &reason, Timestamp::now())
                .map_err(|e| ApiError::from(&InboxError::from(e)))?,
        ])
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

/// `POST /inbox/case/note`: an internal note (never published).
pub async fn add_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CaseForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let me = user.actor();
    let back = case_href(&form.id);
    blocking(&state, move |store| {
        let case = store.case(&form.id)?.ok_or(ApiError::NotFound)?;
        let (note, audit) = case
            .note(&me, &form.value, Timestamp::now())
            .map_err(|e| ApiError::from(&InboxError::from(e)))?;
        store.add_note(&note, &audit)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

pub(crate) fn template_values(
    runtime: &crate::engage_work::EngageRuntime,
    matrix: &Matrix,
    post: Option<&model::Post>,
    user: &str,
) -> TemplateValues {
    let author_name = post
        .map(|p| {
            p.author
                .display_name
                .as_deref()
                .and_then(|n| n.split_whitespace().next())
                .filter(|n| !n.is_empty())
                .unwrap_or(&p.author.handle)
                .to_owned()
        })
        .unwrap_or_else(|| "there".to_owned());
    let mut signature = String::from("^");
    let mut chars = user.chars();
    if let Some(first) = chars.next() {
        signature.extend(first.to_uppercase());
        signature.push_str(chars.as_str());
    }
    TemplateValues {
        author_name,
        service: runtime.service.clone(),
        phone_line: matrix.phone_lines.first().cloned().unwrap_or_default(),
        signature,
    }
}

/// `POST /inbox/case/reply`: starts a reply from the rule's template, variables filled in.
pub async fn start_reply(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CaseForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let me = user.actor();
    let runtime = std::sync::Arc::clone(&state.engage);
    let draft_id = blocking(&state, move |store| {
        let mut case = store.case(&form.id)?.ok_or(ApiError::NotFound)?;
        let matrix = active_matrix(store)?;
        let post = store.post(case.network, &case.post_id)?;
        let values = template_values(&runtime, &matrix, post.as_ref().map(|p| &p.post), &me.name);
        let inbox = Inbox::new(&matrix, runtime.checker()?);
        let (draft, audit) = inbox
            .start_reply(&mut case, &me, &values, Timestamp::now())
            .map_err(|e| ApiError::from(&e))?;
        store.save_draft(&draft, Some(&case), &audit)?;
        Ok(draft.id)
    })
    .await?;
    Ok(Redirect::to(&format!("/drafts/{draft_id}")).into_response())
}
