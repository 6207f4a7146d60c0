//! The draft editor: the text with its checks as you type, a button that says what will happen,
//! submitting (sent at once when the matrix allows, else for approval), approving or rejecting
//! with a comment, publishing or retrying; and `POST /api/drafts/{id}/check`.

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use engage::{
    Actor, ApprovalOutcome, Case, CheckKind, Draft, DraftStatus, Inbox, InboxError, Matrix,
    NewAuditEntry, ReplyContext, Severity, Verdict,
    approval::{self, may_approve},
    checks::DraftContext,
};
use jiff::{Timestamp, civil::DateTime};
use model::{Network, analysis::Analysis};
use serde::{Deserialize, Serialize};
use store::{AuditQuery, Review, WebStore};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    case::RuleView,
    engage_work::{PublishOutcome, active_matrix, publish_draft},
    error::refusal,
    openapi::{ApiRoute, Method, Param},
    page::{Layout, PageContext, render},
    roles::Action,
    views::{PostView, london, uk_time},
};

/// The routes of the draft editor.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/drafts/{id}", get(draft_page))
        .route("/drafts/{id}/submit", post(submit))
        .route("/drafts/{id}/approve", post(approve))
        .route("/drafts/{id}/reject", post(reject))
        .route("/drafts/{id}/publish", post(publish_now))
        .route("/api/drafts/{id}/check", post(api_check))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute {
    method: Method::Post,
    path: "/api/drafts/{id}/check",
    summary: "POST {\"text\": ...} with the `x-csrf-token` header: the checks of a draft text.",
    role: "squad",
    params: &[Param::path("id", "The draft's id.")],
}];

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
    pub(crate) fn new(draft: Draft) -> DraftRow {
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
            updated_label: uk_time(draft.updated_at),
            scheduled_label: draft.scheduled_at.map(uk_time).unwrap_or_default(),
            draft,
        }
    }
}

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
pub(crate) struct DraftContextData {
    pub(crate) draft: Draft,
    pub(crate) case: Option<Case>,
    pub(crate) post: Option<model::Post>,
    pub(crate) analysis: Option<Analysis>,
    pub(crate) matrix: Matrix,
}

/// The writer of a draft as the checks see them (their current role; viewer when gone), so that
/// an approver sees why the draft needs approval.
pub(crate) fn writer(store: &dyn WebStore, draft: &Draft) -> Result<Actor, ApiError> {
    let role = store
        .user_by_name(&draft.author)?
        .map_or(engage::Role::Viewer, |u| u.role);
    Ok(Actor::new(draft.author.clone(), role))
}

pub(crate) fn load_draft_data(
    store: &dyn WebStore,
    id: &str,
) -> Result<DraftContextData, ApiError> {
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

    pub(crate) fn report(&self, checker: &engage::Checker, text: &str, who: &Actor) -> CheckReport {
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
    page: &PageContext,
    id: String,
    text: Option<String>,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let user = &page.user;
    let runtime = std::sync::Arc::clone(&state.engage);
    let who = user.actor();
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
            .map(|e| (uk_time(e.entry.at), e.entry.detail))
            .collect();
        let reviews = store
            .reviews(&id)?
            .into_iter()
            .map(|r| {
                (
                    r.reviewer,
                    r.decision.replace('_', " "),
                    r.comment,
                    uk_time(r.at),
                )
            })
            .collect::<Vec<_>>();
        Ok((data, report, failures, reviews))
    })
    .await?;
    let post = match &data.case {
        Some(c) => crate::case::case_post(state, c).await.map(|p| p.view),
        None => None,
    };
    let who = user.actor();
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
        layout: Layout::new("Draft", page, "inbox"),
        text: text.unwrap_or_else(|| data.draft.text.clone()),
        case_href: data.case.as_ref().map(|c| crate::inbox::case_href(&c.id)),
        rule: data
            .case
            .as_ref()
            .and_then(|c| crate::case::rule_view(&data.matrix, c)),
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
    page: PageContext,
    Path(id): Path<String>,
    Query(notice): Query<DraftNotice>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    draft_response(
        &state,
        &page,
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

pub(crate) fn parse_local(value: &str) -> Result<Option<Timestamp>, ApiError> {
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
            let at = d.scheduled_at.map(uk_time).unwrap_or_default();
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
    page: PageContext,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let scheduled = match form.scheduled_at.as_deref().map(parse_local).transpose() {
        Ok(s) => s.flatten(),
        Err(e) => {
            let message = e.to_string();
            return draft_response(
                &state,
                &page,
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
    let me = user.actor();
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
            let done = release(&state, &draft, user.actor()).await?;
            Ok(after(&id, &done))
        }
        Ok((ApprovalOutcome::AwaitingApproval(_), _)) => Ok(after(&id, "submitted")),
        Err((status, message)) => {
            draft_response(
                &state,
                &page,
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
    page: PageContext,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.check_csrf(&form.csrf)?;
    user.require(Action::ApproveDrafts)?;
    decide(state, page, id, form, true).await
}

/// `POST /drafts/{id}/reject`: rejects with a comment; back to the writer.
pub async fn reject(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.check_csrf(&form.csrf)?;
    user.require(Action::ApproveDrafts)?;
    decide(state, page, id, form, false).await
}

async fn decide(
    state: AppState,
    page: PageContext,
    id: String,
    form: DraftForm,
    approving: bool,
) -> Result<Response, PageError> {
    let user = &page.user;
    let runtime = std::sync::Arc::clone(&state.engage);
    let me = user.actor();
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
            let done = release(&state, &draft, user.actor()).await?;
            Ok(after(&id, &done))
        }
        Ok(_) => Ok(after(&id, "rejected")),
        Err((status, message)) => {
            draft_response(&state, &page, id, None, status, Some(message), None).await
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
    let done = match publish_draft(&state, &id, user.actor()).await? {
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
    let who = user.actor();
    let report = blocking(&state, move |store| {
        let data = load_draft_data(store, &id)?;
        Ok(data.report(runtime.checker()?, &body.text, &who))
    })
    .await?;
    Ok(Json(report))
}
