//! The triage-and-respond pages: the inbox of cases, a case with its thread, analysis, rule and
//! notes, the draft editor with its checks, the approvals queue, the story pipeline and its
//! weekly calendar, and the audit log with its chain check and CSV export; and their JSON
//! equivalents under `/api/`.
//!
//! Every handler checks the person's role for its action ([`Action::min_role`]) first; every form
//! handler checks the CSRF token before anything else. The workflow rules themselves (who may
//! send, approve, assign) are `engage`'s, applied on the server to every request.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use engage::{
    Actor, ApprovalError, ApprovalOutcome, Case, CaseFilter, CaseState, CheckKind, Draft,
    DraftStatus, Inbox, InboxError, Matrix, NewAuditEntry, ReplyContext, Severity, TemplateValues,
    Verdict,
    approval::{self, may_approve},
    checks::DraftContext,
    matrix::format_duration,
};
use jiff::{Timestamp, civil::DateTime};
use model::{Network, analysis::Analysis};
use serde::{Deserialize, Serialize};
use store::{AuditQuery, DraftFilter, Review, WebStore};

use crate::{
    ApiError, AppState,
    auth::CurrentUser,
    blocking,
    engage_work::{PublishOutcome, active_matrix, publish_draft},
    openapi::ApiRoute,
    pages::{Layout, PageError, PostDetails, load_post, render},
    roles::Action,
    views::{PostView, london},
};

/// The stylesheet of these pages, compiled in.
const CSS: &str = include_str!("../static/engage.css");
/// The draft editor's checks-as-you-type script, compiled in.
const SCRIPT: &str = include_str!("../static/engage.js");

/// The JSON API routes of these pages (all `GET` but the draft check, which is `POST`).
pub const API_ROUTES: [ApiRoute; 4] = [
    ApiRoute {
        path: "/api/inbox",
        summary: "Open cases, soonest due first (`state`, `mine=1`, `breached=1`).",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/inbox/case",
        summary: "One case (`id`) with its notes and drafts.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/approvals",
        summary: "Drafts waiting for approval, with whether you may approve each.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/drafts/{id}/check",
        summary: "POST {\"text\": ...} with the `x-csrf-token` header: the checks of a draft text.",
        role: "squad",
        filters: false,
    },
];

/// The routes of these pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/engage.css", get(css))
        .route("/static/engage.js", get(script))
        .route("/inbox", get(inbox))
        .route("/inbox/case", get(case_page))
        .route("/inbox/case/assign", post(assign))
        .route("/inbox/case/note", post(add_note))
        .route("/inbox/case/reply", post(start_reply))
        .route("/inbox/case/close", post(close))
        .route("/drafts/{id}", get(draft_page))
        .route("/drafts/{id}/submit", post(submit))
        .route("/drafts/{id}/approve", post(approve))
        .route("/drafts/{id}/reject", post(reject))
        .route("/drafts/{id}/publish", post(publish_now))
        .route("/approvals", get(approvals))
        .route("/stories", get(stories).post(new_story))
        .route("/audit", get(audit))
        .route("/audit/export.csv", get(audit_csv))
        .route("/api/inbox", get(api_inbox))
        .route("/api/inbox/case", get(api_case))
        .route("/api/approvals", get(api_approvals))
        .route("/api/drafts/{id}/check", post(api_check))
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

fn actor(user: &CurrentUser) -> Actor {
    Actor::new(user.user.name.clone(), user.user.role)
}

fn when(t: Timestamp) -> String {
    t.to_zoned(london()).strftime("%-d %b %Y %H:%M").to_string()
}

/// The status of an engage refusal and its message.
fn refusal(error: &InboxError) -> (StatusCode, String) {
    let status = match error {
        InboxError::Approval(
            ApprovalError::SelfApproval(_)
            | ApprovalError::BelowTier { .. }
            | ApprovalError::NotTheLeader { .. }
            | ApprovalError::MayNotSend { .. },
        )
        | InboxError::Case(engage::CaseError::NotAllowed { .. }) => StatusCode::FORBIDDEN,
        InboxError::Approval(ApprovalError::Blocked(_) | ApprovalError::MissingComment)
        | InboxError::Case(engage::CaseError::EmptyNote)
        | InboxError::Template(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::CONFLICT,
    };
    (status, error.to_string())
}

fn engage_error(error: &InboxError) -> ApiError {
    match refusal(error) {
        (StatusCode::FORBIDDEN, _) => ApiError::Forbidden,
        (StatusCode::BAD_REQUEST, m) => ApiError::BadRequest(m),
        (_, m) => ApiError::Conflict(m),
    }
}

// ---------------------------------------------------------------------------------------------
// The inbox.

/// The inbox filters.
#[derive(Debug, Deserialize, Default)]
pub struct InboxParams {
    /// A case state, or empty for every open state.
    #[serde(default)]
    pub state: Option<String>,
    /// `1`: only my cases.
    #[serde(default)]
    pub mine: Option<String>,
    /// `1`: only cases past their time limit.
    #[serde(default)]
    pub breached: Option<String>,
}

impl InboxParams {
    fn filter(&self, user: &str, now: Timestamp) -> Result<CaseFilter, ApiError> {
        let states = match self.state.as_deref().filter(|s| !s.is_empty()) {
            Some("all") => CaseState::ALL.to_vec(),
            Some(s) => vec![CaseState::parse(s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "state `{s}` is unknown: use new, assigned, drafting, awaiting_approval, \
                     answered, closed or all"
                ))
            })?],
            None => Vec::new(),
        };
        Ok(CaseFilter {
            states,
            assignee: self
                .mine
                .as_deref()
                .filter(|m| *m == "1")
                .map(|_| user.to_owned()),
            rule: None,
            breached_at: self.breached.as_deref().filter(|b| *b == "1").map(|_| now),
            limit: 200,
        })
    }
}

/// A case as the inbox shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    /// The case.
    pub case: Case,
    /// Its page.
    pub href: String,
    /// The network for people.
    pub network_label: &'static str,
    /// The state for people.
    pub state_label: String,
    /// When it opened, UK time.
    pub opened_label: String,
    /// The time limit for people (`due in 40 min`, `2 h overdue`, `answered in time`).
    pub limit_label: String,
    /// Whether the time limit is missed.
    pub breached: bool,
    /// Who wrote the post the case is about (`@handle`), when the post is stored.
    pub author: Option<String>,
    /// The start of that post, personal data masked, when the post is stored.
    pub excerpt: Option<String>,
    /// Seconds left to the time limit (negative once passed), while a response is awaited.
    pub seconds_left: Option<i64>,
}

fn state_label(state: CaseState) -> String {
    state.as_str().replace('_', " ")
}

fn limit_label(case: &Case, now: Timestamp) -> String {
    match (case.time_left(now), case.due_at, case.first_response_at) {
        (Some(left), _, _) if left.is_negative() => {
            format!("{} overdue", format_duration(left.abs()))
        }
        (Some(left), _, _) => format!("due in {}", format_duration(left)),
        (None, Some(due), Some(first)) if first > due => "answered late".to_owned(),
        (None, Some(_), Some(_)) => "answered in time".to_owned(),
        (None, Some(_), None) => "closed".to_owned(),
        (None, None, _) => "no time limit".to_owned(),
    }
}

fn case_href(id: &str) -> String {
    format!("/inbox/case?id={}", crate::auth::form_urlencode(id))
}

impl CaseRow {
    fn new(case: Case, now: Timestamp) -> CaseRow {
        CaseRow {
            href: case_href(&case.id),
            network_label: case.network.label(),
            state_label: state_label(case.state),
            opened_label: when(case.opened_at),
            limit_label: limit_label(&case, now),
            breached: case.breached(now),
            seconds_left: case.time_left(now).map(|d| d.as_secs()),
            author: None,
            excerpt: None,
            case,
        }
    }

    /// Adds the author and a masked excerpt of the case's post.
    fn with_post(mut self, stored: &store::StoredPost) -> CaseRow {
        let text = match &stored.analysis {
            Some(a) => crate::views::mask(&stored.post.text, &a.personal_data),
            None => stored.post.text.clone(),
        };
        self.author = Some(format!("@{}", stored.post.author.handle));
        self.excerpt = Some(excerpt(&text, EXCERPT_CHARS));
        self
    }
}

/// How much of a post the inbox shows.
const EXCERPT_CHARS: usize = 140;

/// The first `max` characters of `text` on one line, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line,
    }
}

#[derive(Template)]
#[template(path = "engage/inbox.html")]
struct InboxPage {
    layout: Layout,
    rows: Vec<CaseRow>,
    states: Vec<(&'static str, String)>,
    state: String,
    mine: bool,
    breached: bool,
}

async fn load_cases(
    state: &AppState,
    user: &CurrentUser,
    params: &InboxParams,
) -> Result<Vec<CaseRow>, ApiError> {
    let now = Timestamp::now();
    let filter = params.filter(&user.user.name, now)?;
    blocking(state, move |store| {
        let cases = store.cases(&filter)?;
        let names: Vec<(model::Network, String)> = cases
            .iter()
            .map(|c| (c.network, c.post_id.clone()))
            .collect();
        let posts: HashMap<(model::Network, String), store::StoredPost> = store
            .posts(&names)?
            .into_iter()
            .map(|p| ((p.post.network, p.post.id.clone()), p))
            .collect();
        Ok(cases
            .into_iter()
            .map(|c| {
                let post = posts.get(&(c.network, c.post_id.clone()));
                let row = CaseRow::new(c, now);
                match post {
                    Some(p) => row.with_post(p),
                    None => row,
                }
            })
            .collect())
    })
    .await
}

/// `GET /inbox`: open cases, soonest due first, with filters.
pub async fn inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<InboxParams>,
) -> Result<Response, PageError> {
    user.require(Action::Read)?;
    let rows = load_cases(&state, &user, &params).await?;
    let mut states = vec![("", "Open (not closed)".to_owned())];
    states.extend(CaseState::ALL.map(|s| (s.as_str(), state_label(s))));
    states.push(("all", "All".to_owned()));
    let page = InboxPage {
        layout: Layout::new("Inbox", &user, "inbox"),
        rows,
        states,
        state: params.state.clone().unwrap_or_default(),
        mine: params.mine.as_deref() == Some("1"),
        breached: params.breached.as_deref() == Some("1"),
    };
    Ok(render(&page))
}

/// `GET /api/inbox`.
pub async fn api_inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<InboxParams>,
) -> Result<Json<Vec<CaseRow>>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(load_cases(&state, &user, &params).await?))
}

// ---------------------------------------------------------------------------------------------
// One case.

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

fn rule_view(matrix: &Matrix, case: &Case) -> Option<RuleView> {
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

/// A draft in a list.
#[derive(Debug, Clone, Serialize)]
pub struct DraftRow {
    /// The draft.
    pub draft: Draft,
    /// Its page.
    pub href: String,
    /// The status for people.
    pub status_label: String,
    /// When it last changed, UK time.
    pub updated_label: String,
    /// When it is scheduled, UK time.
    pub scheduled_label: String,
}

impl DraftRow {
    fn new(draft: Draft) -> DraftRow {
        // A holding statement is decided in its alert's crisis view, beside what drives it.
        let href = match draft
            .case_id
            .as_deref()
            .and_then(crate::crisis::statement_alert)
        {
            Some(alert) => format!("/alerts/{alert}"),
            None => format!("/drafts/{}", draft.id),
        };
        DraftRow {
            href,
            status_label: draft.status.as_str().replace('_', " "),
            updated_label: when(draft.updated_at),
            scheduled_label: draft.scheduled_at.map(when).unwrap_or_default(),
            draft,
        }
    }
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

async fn case_post(state: &AppState, case: &Case) -> Option<PostDetails> {
    load_post(state, case.network, case.post_id.clone())
        .await
        .ok()
}

/// `GET /inbox/case?id=`: the case, its thread, analysis, rule, notes and drafts.
pub async fn case_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(param): Query<CaseParam>,
) -> Result<Response, PageError> {
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
        layout: Layout::new(format!("Case {}", details.case.case.id), &user, "inbox"),
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
            .map(|n| (n.author, when(n.at), n.text))
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
    let me = actor(&user);
    let back = case_href(&form.id);
    change_case(&state, form.id, move |store, case| {
        if store.user_by_name(&to)?.is_none() {
            return Err(ApiError::BadRequest(format!(
                "there is nobody called `{to}`: choose a person from the list"
            )));
        }
        Ok(vec![
            case.assign(&me, &to, Timestamp::now())
                .map_err(|e| engage_error(&e.into()))?,
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
    let me = actor(&user);
    let back = case_href(&form.id);
    let reason = if form.value.trim().is_empty() {
        "closed".to_owned()
    } else {
        form.value.trim().to_owned()
    };
    change_case(&state, form.id, move |_, case| {
        Ok(vec![
            case.close(&me, &reason, Timestamp::now())
                .map_err(|e| engage_error(&e.into()))?,
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
    let me = actor(&user);
    let back = case_href(&form.id);
    blocking(&state, move |store| {
        let case = store.case(&form.id)?.ok_or(ApiError::NotFound)?;
        let (note, audit) = case
            .note(&me, &form.value, Timestamp::now())
            .map_err(|e| engage_error(&e.into()))?;
        store.add_note(&note, &audit)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

fn template_values(
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
    let me = actor(&user);
    let runtime = std::sync::Arc::clone(&state.engage);
    let draft_id = blocking(&state, move |store| {
        let mut case = store.case(&form.id)?.ok_or(ApiError::NotFound)?;
        let matrix = active_matrix(store)?;
        let post = store.post(case.network, &case.post_id)?;
        let values = template_values(&runtime, &matrix, post.as_ref().map(|p| &p.post), &me.name);
        let inbox = Inbox::new(&matrix, runtime.checker()?);
        let (draft, audit) = inbox
            .start_reply(&mut case, &me, &values, Timestamp::now())
            .map_err(|e| engage_error(&e))?;
        store.save_draft(&draft, Some(&case), &audit)?;
        Ok(draft.id)
    })
    .await?;
    Ok(Redirect::to(&format!("/drafts/{draft_id}")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Drafts: the editor, checks, submit, approve, reject, publish.

/// One check's result for people.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    /// The check's name.
    pub name: &'static str,
    /// `passed`, `warning`, `needs approval` or `blocked`.
    pub status: &'static str,
    /// The same as a CSS class suffix (`needs-approval`).
    pub class: &'static str,
    /// Why.
    pub message: String,
    /// What to write instead.
    pub suggestion: Option<String>,
}

/// The checks of a draft text, with what submitting it will do.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Every check, passed or not.
    pub rows: Vec<CheckRow>,
    /// Whether the text cannot be sent.
    pub blocked: bool,
    /// What the submit button does: `Send now` or `Submit for approval`.
    pub action: String,
    /// Why (the rule or check that needs approval).
    pub action_reason: String,
}

const CHECKS: [(CheckKind, &str, &str); 5] = [
    (CheckKind::Length, "Length", ""),
    (
        CheckKind::PersonalData,
        "Personal data",
        "No NHS number, phone number or date of birth in the reply.",
    ),
    (
        CheckKind::ToneMismatch,
        "Fits the post",
        "No apology to a compliment and no thanks for a complaint.",
    ),
    (
        CheckKind::RoboticTone,
        "Human tone",
        "Addresses the person, avoids stock phrases and has a human sign-off.",
    ),
    (
        CheckKind::Clinical,
        "Clinical statements",
        "No clinical statement or statement about a patient's care that you may not make.",
    ),
];

fn report(
    verdict: &Verdict,
    length: (usize, Option<usize>),
    network: Network,
    tier: Option<engage::Role>,
    leader: Option<&str>,
) -> CheckReport {
    let rows = CHECKS
        .iter()
        .flat_map(|(kind, name, passed)| {
            let found: Vec<CheckRow> = verdict
                .findings
                .iter()
                .filter(|f| f.check == *kind)
                .map(|f| CheckRow {
                    name,
                    status: match f.severity {
                        Severity::Warn => "warning",
                        Severity::NeedsApproval => "needs approval",
                        Severity::Block => "blocked",
                    },
                    class: match f.severity {
                        Severity::Warn => "warning",
                        Severity::NeedsApproval => "needs-approval",
                        Severity::Block => "blocked",
                    },
                    message: f.message.clone(),
                    suggestion: f.suggestion.clone(),
                })
                .collect();
            if found.is_empty() {
                let message = if *kind == CheckKind::Length {
                    match length.1 {
                        Some(limit) => format!(
                            "{} of {limit} characters as {} counts them.",
                            length.0,
                            network.label()
                        ),
                        None => format!("{} characters.", length.0),
                    }
                } else {
                    (*passed).to_owned()
                };
                vec![CheckRow {
                    name,
                    status: "passed",
                    class: "passed",
                    message,
                    suggestion: None,
                }]
            } else {
                found
            }
        })
        .collect();
    let (action, action_reason) = match (leader, tier) {
        (Some(leader), _) => (
            "Submit for approval".to_owned(),
            format!("This post goes out as {leader}: {leader} approves it."),
        ),
        (None, Some(t)) => (
            "Submit for approval".to_owned(),
            format!("It needs approval by a {} or above.", t.label()),
        ),
        (None, None) => (
            "Send now".to_owned(),
            "No approval is needed: it goes out as soon as you send it.".to_owned(),
        ),
    };
    CheckReport {
        rows,
        blocked: verdict.blocked(),
        action,
        action_reason,
    }
}

/// Everything the editor needs about a draft.
struct DraftContextData {
    draft: Draft,
    case: Option<Case>,
    post: Option<model::Post>,
    analysis: Option<Analysis>,
    matrix: Matrix,
}

/// The writer of a draft as the checks see them (their current role; viewer when gone), so that
/// an approver sees why the draft needs approval.
fn writer(store: &dyn WebStore, draft: &Draft) -> Result<Actor, ApiError> {
    let role = store
        .user_by_name(&draft.author)?
        .map_or(engage::Role::Viewer, |u| u.role);
    Ok(Actor::new(draft.author.clone(), role))
}

fn load_draft_data(store: &dyn WebStore, id: &str) -> Result<DraftContextData, ApiError> {
    let draft = store.draft(id)?.ok_or(ApiError::NotFound)?;
    let case = match &draft.case_id {
        Some(c) => store.case(c)?,
        None => None,
    };
    let stored = match (&case, &draft.in_reply_to) {
        (Some(c), _) => store.post(c.network, &c.post_id)?,
        (None, Some(reply)) => store.post(draft.network, reply)?,
        _ => None,
    };
    Ok(DraftContextData {
        draft,
        case,
        analysis: stored.as_ref().and_then(|s| s.analysis.clone()),
        post: stored.map(|s| s.post),
        matrix: active_matrix(store)?,
    })
}

impl DraftContextData {
    fn recipient(&self) -> Option<String> {
        self.post.as_ref().map(|p| {
            p.author
                .display_name
                .clone()
                .unwrap_or_else(|| p.author.handle.clone())
        })
    }

    fn verdict(&self, checker: &engage::Checker, text: &str, who: &Actor) -> Verdict {
        let recipient = self.recipient();
        checker.check(
            text,
            &DraftContext {
                network: self.draft.network,
                replying_to: self.analysis.as_ref(),
                recipient: recipient.as_deref(),
                clinical_allowed: self.matrix.may_make_clinical_statements(who.role),
                phone_lines: &self.matrix.phone_lines,
            },
        )
    }

    fn report(&self, checker: &engage::Checker, text: &str, who: &Actor) -> CheckReport {
        let verdict = self.verdict(checker, text, who);
        let rule = self.case.as_ref().and_then(|c| self.matrix.rule(&c.rule));
        let tier = approval::required_tier(&self.matrix, rule, who.role, &verdict);
        let leader = self
            .draft
            .on_behalf_of
            .as_deref()
            .filter(|l| *l != who.name);
        report(
            &verdict,
            checker.measure(text, self.draft.network),
            self.draft.network,
            tier,
            leader,
        )
    }
}

#[derive(Template)]
#[template(path = "engage/draft.html")]
struct DraftPage {
    layout: Layout,
    row: DraftRow,
    text: String,
    case_href: Option<String>,
    rule: Option<RuleView>,
    post: Option<PostView>,
    report: CheckReport,
    editable: bool,
    can_approve: bool,
    approval_note: String,
    can_publish: bool,
    failures: Vec<(String, String)>,
    reviews: Vec<(String, String, String, String)>,
    scheduled_value: String,
    error: Option<String>,
    notice: Option<String>,
}

/// Messages shown on the draft page after a redirect.
#[derive(Debug, Deserialize, Default)]
pub struct DraftNotice {
    /// What happened (`sent`, `submitted`, `approved`, `rejected`, `scheduled`, `failed`,
    /// `in_progress`).
    #[serde(default)]
    pub done: Option<String>,
}

async fn draft_response(
    state: &AppState,
    user: &CurrentUser,
    id: String,
    text: Option<String>,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let runtime = std::sync::Arc::clone(&state.engage);
    let who = actor(user);
    let typed = text.clone();
    let (data, report, failures, reviews) = blocking(state, move |store| {
        let data = load_draft_data(store, &id)?;
        let shown = typed.unwrap_or_else(|| data.draft.text.clone());
        let checked_as = if data.draft.status == DraftStatus::AwaitingApproval {
            writer(store, &data.draft)?
        } else {
            who
        };
        let report = data.report(runtime.checker()?, &shown, &checked_as);
        let failures: Vec<(String, String)> = store
            .audit_search(&AuditQuery {
                subject: Some(data.draft.subject()),
                limit: 200,
                ..AuditQuery::default()
            })?
            .into_iter()
            .take_while(|e| e.entry.action != "draft.publish")
            .filter(|e| e.entry.action == "draft.publish_failed")
            .take(5)
            .map(|e| (when(e.entry.at), e.entry.detail))
            .collect();
        let reviews = store
            .reviews(&id)?
            .into_iter()
            .map(|r| {
                (
                    r.reviewer,
                    r.decision.replace('_', " "),
                    r.comment,
                    when(r.at),
                )
            })
            .collect::<Vec<_>>();
        Ok((data, report, failures, reviews))
    })
    .await?;
    let post = match &data.case {
        Some(c) => case_post(state, c).await.map(|p| p.view),
        None => None,
    };
    let who = actor(user);
    let editable = matches!(
        data.draft.status,
        DraftStatus::Editing | DraftStatus::Rejected
    ) && Action::WorkCases.allowed(user.user.role);
    let can_approve =
        Action::ApproveDrafts.allowed(user.user.role) && may_approve(&who, &data.draft);
    let approval_note = if data.draft.status != DraftStatus::AwaitingApproval || can_approve {
        String::new()
    } else if data.draft.author == who.name {
        "You wrote this draft: someone else must approve it.".to_owned()
    } else if let Some(leader) = &data.draft.on_behalf_of {
        format!("This post goes out as {leader}: only {leader} can approve it.")
    } else {
        format!(
            "It waits for a {} or above.",
            data.draft
                .approval_tier
                .unwrap_or(engage::Role::Approver)
                .label()
        )
    };
    let page = DraftPage {
        layout: Layout::new("Draft", user, "inbox"),
        text: text.unwrap_or_else(|| data.draft.text.clone()),
        case_href: data.case.as_ref().map(|c| case_href(&c.id)),
        rule: data.case.as_ref().and_then(|c| rule_view(&data.matrix, c)),
        post,
        report,
        editable,
        can_approve,
        approval_note,
        can_publish: data.draft.status == DraftStatus::Approved
            && Action::PublishDrafts.allowed(user.user.role),
        failures,
        reviews,
        scheduled_value: data
            .draft
            .scheduled_at
            .map(|t| {
                t.to_zoned(london())
                    .strftime("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default(),
        error,
        notice,
        row: DraftRow::new(data.draft),
    };
    Ok((status, render(&page)).into_response())
}

fn notice_text(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "sent" => "Published.",
            "already_sent" => "This draft had already been published; nothing was sent again.",
            "in_progress" => "This draft is being published by another request.",
            "submitted" => "Submitted for approval.",
            "approved" => "Approved.",
            "rejected" => "Rejected; the writer sees your comment.",
            "scheduled" => "Scheduled: it goes out on time.",
            "saved" => "Saved.",
            _ => return None,
        }
        .to_owned(),
    )
}

/// `GET /drafts/{id}`: the editor (or, for approvers, the review).
pub async fn draft_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(notice): Query<DraftNotice>,
) -> Result<Response, PageError> {
    user.require(Action::Read)?;
    draft_response(
        &state,
        &user,
        id,
        None,
        StatusCode::OK,
        None,
        notice_text(notice.done.as_deref()),
    )
    .await
}

/// The editor's and approver's form.
#[derive(Debug, Deserialize)]
pub struct DraftForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The text.
    #[serde(default)]
    pub text: String,
    /// The rejection comment.
    #[serde(default)]
    pub comment: String,
    /// When to publish (story posts), `YYYY-MM-DDTHH:MM` UK time.
    #[serde(default)]
    pub scheduled_at: Option<String>,
}

fn parse_local(value: &str) -> Result<Option<Timestamp>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let bad = |e: jiff::Error| {
        ApiError::BadRequest(format!(
            "scheduled_at `{value}` is not a date and time like 2026-05-01T09:30: {e}"
        ))
    };
    let civil = DateTime::strptime("%Y-%m-%dT%H:%M:%S", value)
        .or_else(|_| DateTime::strptime("%Y-%m-%dT%H:%M", value))
        .map_err(bad)?;
    Ok(Some(civil.to_zoned(london()).map_err(bad)?.timestamp()))
}

/// After a draft is approved (or needs no approval): publish it now, or schedule it.
async fn release(state: &AppState, draft: &Draft, who: Actor) -> Result<String, ApiError> {
    if draft.scheduled_at.is_some_and(|t| t > Timestamp::now()) {
        let id = draft.id.clone();
        let name = who.name.clone();
        blocking(state, move |store| {
            let mut d = store.draft(&id)?.ok_or(ApiError::NotFound)?;
            d.status = DraftStatus::Scheduled;
            d.updated_at = Timestamp::now();
            let at = d.scheduled_at.map(when).unwrap_or_default();
            let audit = NewAuditEntry::new(
                d.updated_at,
                &name,
                "draft.schedule",
                d.subject(),
                format!("scheduled for {at} (UK time) on {}", d.network),
            );
            store.save_draft(&d, None, &[audit])?;
            Ok(())
        })
        .await?;
        return Ok("scheduled".to_owned());
    }
    Ok(match publish_draft(state, &draft.id, who).await? {
        PublishOutcome::Published(_) => "sent".to_owned(),
        PublishOutcome::AlreadySent(_) => "already_sent".to_owned(),
        PublishOutcome::InProgress => "in_progress".to_owned(),
        PublishOutcome::Failed(_) => "failed".to_owned(),
    })
}

fn after(id: &str, done: &str) -> Response {
    Redirect::to(&format!("/drafts/{id}?done={done}")).into_response()
}

/// `POST /drafts/{id}/submit`: saves the text, runs the checks, and sends it at once when the
/// matrix allows, or submits it for approval.
pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let scheduled = match form.scheduled_at.as_deref().map(parse_local).transpose() {
        Ok(s) => s.flatten(),
        Err(e) => {
            let message = e.to_string();
            return draft_response(
                &state,
                &user,
                id,
                Some(form.text),
                StatusCode::BAD_REQUEST,
                Some(message),
                None,
            )
            .await;
        }
    };
    let runtime = std::sync::Arc::clone(&state.engage);
    let me = actor(&user);
    let text = form.text.clone();
    let draft_id = id.clone();
    let submitted = blocking(&state, move |store| {
        let mut data = load_draft_data(store, &draft_id)?;
        let checker = runtime.checker()?;
        let now = Timestamp::now();
        if !matches!(
            data.draft.status,
            DraftStatus::Editing | DraftStatus::Rejected
        ) {
            return Ok(Err((
                StatusCode::CONFLICT,
                format!(
                    "this draft is {}: it can no longer be changed",
                    data.draft.status.as_str().replace('_', " ")
                ),
            )));
        }
        if data.case.is_none() && scheduled.is_some() {
            data.draft.scheduled_at = scheduled;
        }
        let recipient = data.recipient();
        let reply = ReplyContext {
            analysis: data.analysis.as_ref(),
            recipient: recipient.as_deref(),
        };
        let outcome = match data.case.as_mut() {
            Some(case) => Inbox::new(&data.matrix, checker)
                .submit(case, &mut data.draft, &me, &text, reply, now)
                .map(|(o, _, audit)| (o, audit)),
            None => {
                data.draft.text.clone_from(&text);
                let verdict = data.verdict(checker, &text, &me);
                approval::submit(&mut data.draft, &me, &data.matrix, None, &verdict, now)
                    .map(|(o, a)| (o, vec![a]))
                    .map_err(InboxError::from)
            }
        };
        match outcome {
            Ok((outcome, audit)) => {
                store.save_draft(&data.draft, data.case.as_ref(), &audit)?;
                Ok(Ok((outcome, data.draft)))
            }
            Err(e) => Ok(Err(refusal(&e))),
        }
    })
    .await?;
    match submitted {
        Ok((ApprovalOutcome::SendNow, draft)) => {
            let done = release(&state, &draft, actor(&user)).await?;
            Ok(after(&id, &done))
        }
        Ok((ApprovalOutcome::AwaitingApproval(_), _)) => Ok(after(&id, "submitted")),
        Err((status, message)) => {
            draft_response(
                &state,
                &user,
                id,
                Some(form.text),
                status,
                Some(message),
                None,
            )
            .await
        }
    }
}

/// `POST /drafts/{id}/approve`: approves the draft as shown in the form (edited and approved
/// when the approver changed the text), then publishes or schedules it.
pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ApproveDrafts)?;
    decide(state, user, id, form, true).await
}

/// `POST /drafts/{id}/reject`: rejects with a comment; back to the writer.
pub async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ApproveDrafts)?;
    decide(state, user, id, form, false).await
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    id: String,
    form: DraftForm,
    approving: bool,
) -> Result<Response, PageError> {
    let runtime = std::sync::Arc::clone(&state.engage);
    let me = actor(&user);
    let draft_id = id.clone();
    let text = form.text.clone();
    let comment = form.comment.clone();
    let decided = blocking(&state, move |store| {
        let mut data = load_draft_data(store, &draft_id)?;
        let checker = runtime.checker()?;
        let now = Timestamp::now();
        let recipient = data.recipient();
        let reply = ReplyContext {
            analysis: data.analysis.as_ref(),
            recipient: recipient.as_deref(),
        };
        let edited = (approving && !text.trim().is_empty() && text != data.draft.text)
            .then_some(text.as_str());
        let result = match (data.case.as_mut(), approving) {
            (Some(case), true) => Inbox::new(&data.matrix, checker)
                .approve(case, &mut data.draft, &me, edited, reply, now)
                .map(|(_, a)| a),
            (Some(case), false) => {
                Inbox::new(&data.matrix, checker).reject(case, &mut data.draft, &me, &comment, now)
            }
            (None, true) => {
                let verdict = data.verdict(checker, edited.unwrap_or(&data.draft.text), &me);
                approval::approve(&mut data.draft, &me, edited, &verdict, now)
                    .map(|a| vec![a])
                    .map_err(InboxError::from)
            }
            (None, false) => approval::reject(&mut data.draft, &me, &comment, now)
                .map(|a| vec![a])
                .map_err(InboxError::from),
        };
        match result {
            Ok(audit) => {
                let review = Review {
                    draft_id: data.draft.id.clone(),
                    reviewer: me.name.clone(),
                    decision: match (approving, edited) {
                        (true, Some(_)) => "edited_and_approved",
                        (true, None) => "approved",
                        (false, _) => "rejected",
                    }
                    .to_owned(),
                    comment: if approving {
                        String::new()
                    } else {
                        comment.trim().to_owned()
                    },
                    at: now,
                };
                store.add_review(&review, &data.draft, data.case.as_ref(), &audit)?;
                Ok(Ok(data.draft))
            }
            Err(e) => Ok(Err(refusal(&e))),
        }
    })
    .await?;
    match decided {
        Ok(draft) if approving => {
            let done = release(&state, &draft, actor(&user)).await?;
            Ok(after(&id, &done))
        }
        Ok(_) => Ok(after(&id, "rejected")),
        Err((status, message)) => {
            draft_response(&state, &user, id, None, status, Some(message), None).await
        }
    }
}

/// `POST /drafts/{id}/publish`: publishes an approved draft now (a retry after a failure).
pub async fn publish_now(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::PublishDrafts)?;
    let done = match publish_draft(&state, &id, actor(&user)).await? {
        PublishOutcome::Published(_) => "sent",
        PublishOutcome::AlreadySent(_) => "already_sent",
        PublishOutcome::InProgress => "in_progress",
        PublishOutcome::Failed(_) => "failed",
    };
    Ok(after(&id, done))
}

/// The JSON body of a draft check.
#[derive(Debug, Deserialize)]
pub struct CheckBody {
    /// The text as typed.
    pub text: String,
}

/// `POST /api/drafts/{id}/check`: the checks of a text as typed (the editor's script).
pub async fn api_check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<CheckBody>,
) -> Result<Json<CheckReport>, ApiError> {
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    user.check_csrf(token)?;
    user.require(Action::WorkCases)?;
    let runtime = std::sync::Arc::clone(&state.engage);
    let who = actor(&user);
    let report = blocking(&state, move |store| {
        let data = load_draft_data(store, &id)?;
        Ok(data.report(runtime.checker()?, &body.text, &who))
    })
    .await?;
    Ok(Json(report))
}

// ---------------------------------------------------------------------------------------------
// Approvals.

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
    let who = actor(user);
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
    user: CurrentUser,
) -> Result<Response, PageError> {
    user.require(Action::ApproveDrafts)?;
    let rows = load_approvals(&state, &user).await?;
    Ok(render(&ApprovalsPage {
        layout: Layout::new("Approvals", &user, "approvals"),
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

// ---------------------------------------------------------------------------------------------
// Stories: the pipeline and the calendar.

/// The story page's query.
#[derive(Debug, Deserialize, Default)]
pub struct StoriesParams {
    /// Any day of the week to show, `YYYY-MM-DD` (this week when absent).
    #[serde(default)]
    pub week: Option<String>,
}

#[derive(Template)]
#[template(path = "engage/stories.html")]
struct StoriesPage {
    layout: Layout,
    columns: Vec<(&'static str, Vec<DraftRow>)>,
    days: Vec<(String, Vec<DraftRow>)>,
    week_label: String,
    previous: String,
    next: String,
    leaders: Vec<String>,
    can_plan: bool,
    error: Option<String>,
}

fn week_start(params: &StoriesParams) -> Result<jiff::civil::Date, ApiError> {
    let day = match params.week.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => w.parse::<jiff::civil::Date>().map_err(|e| {
            ApiError::BadRequest(format!("week `{w}` is not a date like 2026-05-04: {e}"))
        })?,
        None => Timestamp::now().to_zoned(london()).date(),
    };
    let back = i64::from(day.weekday().to_monday_zero_offset());
    day.checked_sub(jiff::Span::new().days(back))
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn stories_response(
    state: &AppState,
    user: &CurrentUser,
    params: &StoriesParams,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let monday = week_start(params)?;
    let start = monday
        .to_zoned(london())
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .timestamp();
    let end = monday
        .checked_add(jiff::Span::new().days(7))
        .and_then(|d| d.to_zoned(london()))
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .timestamp();
    let (stories, week, leaders) = blocking(state, move |store| {
        let stories: Vec<Draft> = store
            .drafts(&DraftFilter {
                limit: 500,
                ..DraftFilter::default()
            })?
            .into_iter()
            .filter(|d| d.case_id.is_none())
            .collect();
        let week = store.drafts(&DraftFilter {
            scheduled_from: Some(start),
            scheduled_until: Some(end),
            limit: 500,
            ..DraftFilter::default()
        })?;
        let leaders: Vec<String> = store.users()?.into_iter().map(|u| u.name).collect();
        Ok((stories, week, leaders))
    })
    .await?;
    let mut columns: Vec<(&'static str, Vec<DraftRow>)> = vec![
        ("Ideas and drafts", Vec::new()),
        ("Awaiting approval", Vec::new()),
        ("Approved", Vec::new()),
        ("Scheduled", Vec::new()),
        ("Published", Vec::new()),
    ];
    for d in stories {
        let column = match d.status {
            DraftStatus::Editing | DraftStatus::Rejected => 0,
            DraftStatus::AwaitingApproval => 1,
            DraftStatus::Approved => 2,
            DraftStatus::Scheduled => 3,
            DraftStatus::Sent => 4,
        };
        if let Some((_, list)) = columns.get_mut(column) {
            list.push(DraftRow::new(d));
        }
    }
    let mut by_day: BTreeMap<i16, Vec<DraftRow>> = BTreeMap::new();
    for d in week {
        if let Some(at) = d.scheduled_at {
            let offset = at
                .to_zoned(london())
                .date()
                .weekday()
                .to_monday_zero_offset();
            by_day
                .entry(i16::from(offset))
                .or_default()
                .push(DraftRow::new(d));
        }
    }
    let days = (0..7_i16)
        .map(|i| {
            let date = monday
                .checked_add(jiff::Span::new().days(i))
                .unwrap_or(monday);
            let mut list = by_day.remove(&i).unwrap_or_default();
            list.sort_by_key(|r| r.draft.scheduled_at);
            (date.strftime("%A %-d %B").to_string(), list)
        })
        .collect();
    let shift = |days: i64| {
        monday
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(monday)
            .to_string()
    };
    let page = StoriesPage {
        layout: Layout::new("Stories", user, "stories"),
        columns,
        days,
        week_label: format!("Week of {}", monday.strftime("%-d %B %Y")),
        previous: shift(-7),
        next: shift(7),
        leaders,
        can_plan: Action::PlanStories.allowed(user.user.role),
        error,
    };
    Ok((status, render(&page)).into_response())
}

/// `GET /stories?week=`: the pipeline and the week's calendar.
pub async fn stories(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StoriesParams>,
) -> Result<Response, PageError> {
    user.require(Action::Read)?;
    stories_response(&state, &user, &params, StatusCode::OK, None).await
}

/// The new story form.
#[derive(Debug, Deserialize)]
pub struct StoryForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// `mastodon`, `bluesky` or `x`.
    pub network: String,
    /// The text (an idea may be short).
    pub text: String,
    /// The leader it goes out as (empty: the organisation's account).
    #[serde(default)]
    pub on_behalf_of: String,
    /// When to publish, UK time.
    #[serde(default)]
    pub scheduled_at: String,
}

/// `POST /stories`: a new idea or draft post.
pub async fn new_story(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<StoryForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::PlanStories)?;
    let checked = (|| {
        let network: Network = form.network.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "network `{}` is unknown: choose Mastodon, Bluesky or X",
                form.network
            ))
        })?;
        if form.text.trim().is_empty() {
            return Err(ApiError::BadRequest(
                "text: write the idea or the post".to_owned(),
            ));
        }
        Ok((network, parse_local(&form.scheduled_at)?))
    })();
    let (network, scheduled) = match checked {
        Ok(v) => v,
        Err(e) => {
            return stories_response(
                &state,
                &user,
                &StoriesParams::default(),
                e.status(),
                Some(e.to_string()),
            )
            .await;
        }
    };
    let me = user.user.name.clone();
    let leader = form.on_behalf_of.trim().to_owned();
    let text = form.text.trim().to_owned();
    let id = blocking(&state, move |store| {
        if !leader.is_empty() && store.user_by_name(&leader)?.is_none() {
            return Err(ApiError::BadRequest(format!(
                "on_behalf_of: there is nobody called `{leader}`"
            )));
        }
        let now = Timestamp::now();
        let mut draft = Draft::new(None, network, None, &me, &text, now);
        draft.on_behalf_of = (!leader.is_empty()).then_some(leader.clone());
        draft.scheduled_at = scheduled;
        let audit = NewAuditEntry::new(
            now,
            &me,
            "draft.create",
            draft.subject(),
            format!(
                "story for {}{}",
                network.label(),
                if leader.is_empty() {
                    String::new()
                } else {
                    format!(", as {leader}")
                }
            ),
        );
        store.save_draft(&draft, None, &[audit])?;
        Ok(draft.id)
    })
    .await?;
    Ok(Redirect::to(&format!("/drafts/{id}?done=saved")).into_response())
}

// ---------------------------------------------------------------------------------------------
// The audit log.

/// The audit page's filters.
#[derive(Debug, Deserialize, Default)]
pub struct AuditParams {
    /// A subject (`case:x:1`, `draft:ab12`), or a kind of subject ending in `:` (`draft:`).
    #[serde(default)]
    pub subject: Option<String>,
    /// A user name.
    #[serde(default)]
    pub actor: Option<String>,
    /// Entries before this sequence number (the next page).
    #[serde(default)]
    pub before: Option<u64>,
}

#[derive(Template)]
#[template(path = "engage/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<(u64, String, String, String, String, String, String)>,
    subject: String,
    actor: String,
    older: Option<String>,
    verified: Result<u64, String>,
}

/// How many entries an audit page shows.
const AUDIT_PAGE: usize = 50;

fn verify_chain(store: &dyn WebStore) -> Result<Result<u64, String>, ApiError> {
    let mut verifier = engage::ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = store.audit_entries(after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if let Err(broken) = verifier.push(e) {
                return Ok(Err(broken.to_string()));
            }
        }
    }
    Ok(Ok(verifier.verified()))
}

/// `GET /audit`: the log, newest first, filtered by subject and user, with the chain check.
pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    user.require(Action::ReadAudit)?;
    let subject = params.subject.clone().unwrap_or_default();
    let actor_name = params.actor.clone().unwrap_or_default();
    let query = AuditQuery {
        subject: Some(subject.trim().to_owned()).filter(|s| !s.is_empty()),
        actor: Some(actor_name.trim().to_owned()).filter(|s| !s.is_empty()),
        before_seq: params.before,
        limit: AUDIT_PAGE,
    };
    let (entries, verified) = blocking(&state, move |store| {
        Ok((store.audit_search(&query)?, verify_chain(store)?))
    })
    .await?;
    let older = (entries.len() == AUDIT_PAGE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            format!(
                "/audit?subject={}&actor={}&before={seq}",
                crate::auth::form_urlencode(&subject),
                crate::auth::form_urlencode(&actor_name)
            )
        });
    let page = AuditPage {
        layout: Layout::new("Audit log", &user, "audit"),
        entries: entries
            .into_iter()
            .map(|e| {
                (
                    e.seq,
                    when(e.entry.at),
                    e.entry.actor,
                    e.entry.action,
                    format!(
                        "/audit?subject={}",
                        crate::auth::form_urlencode(&e.entry.subject)
                    ),
                    e.entry.subject,
                    e.entry.detail,
                )
            })
            .collect(),
        subject,
        actor: actor_name,
        older,
        verified,
    };
    Ok(render(&page))
}

/// `GET /audit/export.csv`: the whole log as CSV, with each entry's hashes.
pub async fn audit_csv(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    user.require(Action::ExportAudit)?;
    let body = blocking(&state, |store| {
        let mut w = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| ApiError::Internal(format!("cannot write the CSV: {e}"));
        w.write_record(engage::audit::CSV_HEADER).map_err(fail)?;
        let mut after = 0;
        loop {
            let page = store.audit_entries(after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                w.write_record(e.csv_record()).map_err(fail)?;
            }
        }
        w.into_inner()
            .map_err(|e| ApiError::Internal(format!("cannot write the CSV: {e}")))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"switchboard-audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn holding_statements_link_to_their_crisis_view() {
        assert_eq!(crate::crisis::statement_alert("alert:42"), Some(42));
        assert_eq!(crate::crisis::statement_alert("mastodon:42"), None);
        assert_eq!(crate::crisis::statement_alert("alert:x"), None);
    }

    #[test]
    fn excerpts_are_one_line_and_cut_on_a_character() {
        assert_eq!(
            excerpt("Waited\n 9 hours  in A&E", 140),
            "Waited 9 hours in A&E"
        );
        assert_eq!(excerpt("Café über alles", 5), "Café…");
        assert_eq!(excerpt("abc", 3), "abc");
    }
}
