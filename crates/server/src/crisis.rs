//! The alerts list and the crisis view of one alert: its timeline, the spike chart (posts per
//! interval against the usual count), the posts driving it, the cases they opened, and a
//! holding statement drafted, checked and approved through the `engage` crate's rules (nobody
//! approves their own draft), every step written to the audit log with the change.
//!
//! A holding statement is a [`engage::Draft`] whose `case_id` is `alert:<id>`, so it is listed
//! with the alert (and in the approvals queue with every other draft).

use std::sync::OnceLock;

use alert::Alert;
use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use engage::{
    Actor, Checker, Draft, DraftContext, DraftStatus, NewAuditEntry, Role, Verdict, approval,
    thread_key,
};
use jiff::{SignedDuration, Timestamp};
use model::Network;
use serde::{Deserialize, Serialize};
use store::{AlertEvent, DashboardQuery, DraftFilter, Review, StoredAlert, WebStore};

use crate::{
    ApiError, AppState, PageError,
    alerts::{AlertView, when},
    auth::CurrentUser,
    blocking, charts,
    openapi::{ApiRoute, Param},
    page::{Layout, PageContext, render},
    roles::Action,
    views::{london, path_segment},
};

/// The routes of the crisis view.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts/{id}", get(crisis_page))
        .route("/alerts/{id}/statement", post(draft_statement))
        .route(
            "/alerts/{id}/statement/{draft}/approve",
            post(approve_statement),
        )
        .route(
            "/alerts/{id}/statement/{draft}/reject",
            post(reject_statement),
        )
        .route("/api/alerts/{id}", get(api_alert))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/alerts/{id}",
    "One alert's crisis view: the alert, its timeline, volume, cases and holding statements.",
    "viewer",
    &[Param::path_integer("id", "The alert's id.")],
)];

/// The longest holding statement accepted, in characters.
pub const MAX_STATEMENT: usize = 5_000;

/// The networks a holding statement can go out on (news feeds and feedback exports cannot
/// take posts).
pub const STATEMENT_NETWORKS: [Network; 4] = [
    Network::X,
    Network::Mastodon,
    Network::Bluesky,
    Network::Facebook,
];

/// One update in the timeline.
struct EventView {
    at: String,
    kind: &'static str,
    severity: &'static str,
    count: u64,
    peak: String,
}

/// A post that drove the alert.
struct PostLink {
    href: String,
    network: &'static str,
    author: String,
    text: String,
    at: String,
}

/// A case opened from a driving post.
struct CaseView {
    id: String,
    state: String,
    rule: String,
    assignee: String,
    opened_at: String,
}

/// A holding statement.
struct DraftView {
    id: String,
    status: &'static str,
    author: String,
    network: &'static str,
    text: String,
    approved_by: Option<String>,
    rejection: Option<String>,
    updated_at: String,
    awaiting: bool,
    may_approve: bool,
}

#[derive(Template)]
#[template(path = "crisis.html")]
struct CrisisTemplate {
    layout: Layout,
    alert: AlertView,
    timeline: Vec<EventView>,
    chart: String,
    posts: Vec<PostLink>,
    cases: Vec<CaseView>,
    drafts: Vec<DraftView>,
    can_draft: bool,
    networks: Vec<(&'static str, &'static str)>,
}

/// The case id under which an alert's holding statements are kept.
pub fn statement_key(alert_id: i64) -> String {
    format!("alert:{alert_id}")
}

/// The alert whose holding statement a draft is, from the draft's case id (see
/// [`statement_key`]).
pub fn statement_alert(case_id: &str) -> Option<i64> {
    case_id.strip_prefix("alert:")?.parse().ok()
}

/// Everything the crisis view reads from the store.
#[derive(Debug, Clone, Serialize)]
pub struct CrisisData {
    /// The alert.
    pub stored: StoredAlert,
    /// Its updates, oldest first.
    pub timeline: Vec<AlertEvent>,
    /// Posts per interval around it.
    pub volume: Volume,
    /// Cases opened from its driving posts.
    pub cases: Vec<engage::Case>,
    /// Its holding statements, newest first.
    pub drafts: Vec<Draft>,
}

/// Posts per interval around an alert, and the usual count per interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Volume {
    /// What was counted (a monitor's name, or every post).
    pub scope: String,
    /// The interval, in seconds.
    pub bucket_seconds: i64,
    /// Start of each interval and its posts.
    pub buckets: Vec<(Timestamp, u64)>,
    /// The mean posts per interval over the day before the chart starts.
    pub baseline: f64,
}

/// The interval of the spike chart for an alert lasting `span`.
pub fn bucket_seconds(span: SignedDuration) -> i64 {
    match span.as_hours() {
        0..6 => 300,
        6..24 => 900,
        _ => 3_600,
    }
}

fn floor_to(at: Timestamp, seconds: i64) -> Timestamp {
    let second = at.as_second();
    Timestamp::from_second(second - second.rem_euclid(seconds)).unwrap_or(at)
}

/// Counts posts around an alert in the store: from an hour before it started to a little after
/// its last trigger, in the alert's monitor when the store has a monitor of that name.
fn volume(store: &dyn WebStore, alert: &Alert, now: Timestamp) -> Result<Volume, ApiError> {
    let span = alert.last_seen.duration_since(alert.first_seen);
    let bucket = bucket_seconds(span);
    let step = SignedDuration::from_secs(bucket);
    let since = floor_to(
        alert
            .first_seen
            .checked_sub(SignedDuration::from_hours(1))
            .unwrap_or(alert.first_seen),
        bucket,
    );
    let end = alert
        .last_seen
        .checked_add(SignedDuration::from_mins(15))
        .unwrap_or(alert.last_seen)
        .min(now.checked_add(step).unwrap_or(now));
    let until = floor_to(end, bucket)
        .checked_add(step)
        .unwrap_or(end)
        .max(since.checked_add(step).unwrap_or(since));
    let monitor = store
        .monitors()?
        .into_iter()
        .find(|m| m.name == alert.scope);
    let query = |since: Timestamp, until: Timestamp| DashboardQuery {
        since,
        until,
        monitor: monitor.as_ref().map(|m| m.id),
        bucket_seconds: bucket,
        utc_offset_seconds: 0,
        top: 1,
    };
    let counts = store.dashboard(&query(since, until))?;
    let before = since
        .checked_sub(SignedDuration::from_hours(24))
        .unwrap_or(since);
    let usual = store.dashboard(&query(before, since))?;
    let intervals = (86_400 / bucket).max(1) as f64;
    Ok(Volume {
        scope: monitor.map_or_else(
            || "every post".to_owned(),
            |m| format!("monitor {}", m.name),
        ),
        bucket_seconds: bucket,
        buckets: counts
            .buckets
            .iter()
            .map(|b| (b.start, b.by_network.iter().sum()))
            .collect(),
        baseline: usual.total as f64 / intervals,
    })
}

fn crisis_data(store: &dyn WebStore, id: i64) -> Result<CrisisData, ApiError> {
    let stored = store.alert(id)?.ok_or(ApiError::NotFound)?;
    let timeline = store.alert_timeline(id)?;
    let volume = volume(store, &stored.alert, Timestamp::now())?;
    let mut cases: Vec<engage::Case> = Vec::new();
    for post_ref in &stored.alert.posts {
        let Some(found) = store.post(post_ref.network, &post_ref.id)? else {
            continue;
        };
        let Some(case) = store.case(&thread_key(&found.post))? else {
            continue;
        };
        if !cases.iter().any(|c| c.id == case.id) {
            cases.push(case);
        }
    }
    let drafts = store.drafts(&DraftFilter {
        case_id: Some(statement_key(id)),
        limit: 50,
        ..DraftFilter::default()
    })?;
    Ok(CrisisData {
        stored,
        timeline,
        volume,
        cases,
        drafts,
    })
}

/// `GET /api/alerts/{id}`: the crisis view's data.
pub async fn api_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<CrisisData>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(
        blocking(&state, move |store| crisis_data(store, id)).await?,
    ))
}

/// `GET /alerts/{id}`: the crisis view.
pub async fn crisis_page(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let data = blocking(&state, move |store| crisis_data(store, id)).await?;
    let me = user.actor();
    let can_approve = Action::ApproveStatement.allowed(user.user.role);
    let volume = &data.volume;
    let categories: Vec<String> = volume
        .buckets
        .iter()
        .map(|(start, _)| start.to_zoned(london()).strftime("%H:%M").to_string())
        .collect();
    let values: Vec<u64> = volume.buckets.iter().map(|(_, n)| *n).collect();
    let minutes = volume.bucket_seconds / 60;
    let chart = charts::spike(
        "spike",
        &format!("Posts per {minutes} minutes ({})", volume.scope),
        &format!(
            "Bars: posts per {minutes} minutes around the alert. Dashed line: the usual {:.1} per {minutes} minutes over the day before.",
            volume.baseline
        ),
        &categories,
        &values,
        volume.baseline,
    );
    let template = CrisisTemplate {
        layout: Layout::new(data.stored.alert.title.clone(), &page, "alerts"),
        alert: AlertView::new(&data.stored),
        timeline: data
            .timeline
            .iter()
            .map(|e| EventView {
                at: when(e.at),
                kind: e.kind.as_str(),
                severity: e.severity.as_str(),
                count: e.count,
                peak: format!("{:.2}", e.peak),
            })
            .collect(),
        chart,
        posts: data
            .stored
            .alert
            .posts
            .iter()
            .map(|p| PostLink {
                href: format!("/posts/{}/{}", p.network, path_segment(&p.id)),
                network: p.network.label(),
                author: p.author.clone(),
                text: p.text.clone(),
                at: when(p.at),
            })
            .collect(),
        cases: data
            .cases
            .iter()
            .map(|c| CaseView {
                id: c.id.clone(),
                state: format!("{:?}", c.state).to_lowercase(),
                rule: c.rule.clone(),
                assignee: c.assignee.clone().unwrap_or_else(|| "nobody".to_owned()),
                opened_at: when(c.opened_at),
            })
            .collect(),
        drafts: data
            .drafts
            .iter()
            .map(|d| DraftView {
                id: d.id.clone(),
                status: d.status.as_str(),
                author: d.author.clone(),
                network: d.network.label(),
                text: d.text.clone(),
                approved_by: d.approved_by.clone(),
                rejection: d.rejection.clone(),
                updated_at: when(d.updated_at),
                awaiting: d.status == DraftStatus::AwaitingApproval,
                may_approve: can_approve && approval::may_approve(&me, d),
            })
            .collect(),
        can_draft: Action::DraftStatement.allowed(user.user.role),
        networks: STATEMENT_NETWORKS
            .iter()
            .map(|n| (n.as_str(), n.label()))
            .collect(),
    };
    Ok(render(&template))
}

/// The draft checks, compiled once.
fn checker() -> Result<&'static Checker, ApiError> {
    static CHECKER: OnceLock<Result<Checker, String>> = OnceLock::new();
    CHECKER
        .get_or_init(|| Checker::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ApiError::Internal(e.clone()))
}

fn check(text: &str, network: Network) -> Result<Verdict, ApiError> {
    Ok(checker()?.check(
        text,
        &DraftContext {
            network,
            replying_to: None,
            recipient: None,
            clinical_allowed: false,
            phone_lines: &[],
        },
    ))
}

/// The holding statement form.
#[derive(Debug, Deserialize)]
pub struct StatementForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The network it is for.
    #[serde(default)]
    pub network: String,
    /// The text.
    #[serde(default)]
    pub text: String,
}

/// Makes a holding statement for alert `alert_id` by `author`, waiting for an approver; with
/// its audit entries.
pub fn holding_statement(
    alert_id: i64,
    network: Network,
    text: &str,
    author: &Actor,
    verdict: &Verdict,
    now: Timestamp,
) -> Result<(Draft, Vec<NewAuditEntry>), ApiError> {
    if !STATEMENT_NETWORKS.contains(&network) {
        return Err(ApiError::BadRequest(format!(
            "a statement cannot go out on {}; choose X, Mastodon, Bluesky or Facebook",
            network.label()
        )));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::BadRequest(
            "write the statement: the text is empty".into(),
        ));
    }
    if text.chars().count() > MAX_STATEMENT {
        return Err(ApiError::BadRequest(format!(
            "the statement is longer than {MAX_STATEMENT} characters; shorten it"
        )));
    }
    if verdict.blocked() {
        let why: Vec<&str> = verdict
            .findings
            .iter()
            .filter(|f| f.severity == engage::Severity::Block)
            .map(|f| f.message.as_str())
            .collect();
        return Err(ApiError::BadRequest(format!(
            "the statement cannot go out: {}; change the text and try again",
            why.join("; ")
        )));
    }
    let mut draft = Draft::new(
        Some(&statement_key(alert_id)),
        network,
        None,
        &author.name,
        text,
        now,
    );
    draft.status = DraftStatus::AwaitingApproval;
    draft.approval_tier = Some(Role::Approver);
    let audit = vec![
        NewAuditEntry::new(
            now,
            &author.name,
            "draft.create",
            draft.subject(),
            format!("holding statement for alert {alert_id} on {network}"),
        ),
        NewAuditEntry::new(
            now,
            &author.name,
            "draft.submit",
            draft.subject(),
            "submitted; awaiting approval by an approver",
        ),
    ];
    Ok((draft, audit))
}

/// `POST /alerts/{id}/statement`: drafts a holding statement for approval.
pub async fn draft_statement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<StatementForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::DraftStatement)?;
    let network: Network = form.network.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "unknown network `{}`; choose one from the list",
            form.network
        ))
    })?;
    let verdict = check(form.text.trim(), network)?;
    let author = user.actor();
    let (draft, audit) =
        holding_statement(id, network, &form.text, &author, &verdict, Timestamp::now())?;
    blocking(&state, move |store| {
        store.alert(id)?.ok_or(ApiError::NotFound)?;
        Ok(store.save_draft(&draft, None, &audit)?)
    })
    .await?;
    Ok(Redirect::to(&format!("/alerts/{id}#statement")).into_response())
}

/// The approve and reject forms.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// Why it is rejected (rejections only).
    #[serde(default)]
    pub comment: String,
}

async fn review(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft_id: String,
    reject: Option<String>,
) -> Result<Response, PageError> {
    user.require(Action::ApproveStatement)?;
    let approver = user.actor();
    blocking(state, move |store| {
        let mut draft = store
            .draft(&draft_id)?
            .filter(|d| d.case_id.as_deref() == Some(statement_key(id).as_str()))
            .ok_or(ApiError::NotFound)?;
        let now = Timestamp::now();
        let refused = |e: approval::ApprovalError| ApiError::BadRequest(e.to_string());
        let (decision, comment, audit) = match reject {
            Some(comment) => {
                let audit =
                    approval::reject(&mut draft, &approver, &comment, now).map_err(refused)?;
                ("rejected", comment, audit)
            }
            None => {
                let verdict = check(&draft.text, draft.network)?;
                let audit = approval::approve(&mut draft, &approver, None, &verdict, now)
                    .map_err(refused)?;
                ("approved", String::new(), audit)
            }
        };
        let review = Review {
            draft_id: draft.id.clone(),
            reviewer: approver.name.clone(),
            decision: decision.to_owned(),
            comment,
            at: now,
        };
        Ok(store.add_review(&review, &draft, None, &[audit])?)
    })
    .await?;
    Ok(Redirect::to(&format!("/alerts/{id}#statement")).into_response())
}

/// `POST /alerts/{id}/statement/{draft}/approve`: approves a holding statement (not one's own).
pub async fn approve_statement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, draft_id)): Path<(i64, String)>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    review(&state, &user, id, draft_id, None).await
}

/// `POST /alerts/{id}/statement/{draft}/reject`: rejects a holding statement with a comment.
pub async fn reject_statement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, draft_id)): Path<(i64, String)>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    review(&state, &user, id, draft_id, Some(form.comment)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_waits_for_an_approver_and_its_author_cannot_approve_it() {
        let author = Actor::new("olive", Role::Officer);
        let now = Timestamp::now();
        let verdict = check("We are aware and looking into it.", Network::X).unwrap();
        let (mut draft, audit) = holding_statement(
            7,
            Network::X,
            " We are aware and looking into it. ",
            &author,
            &verdict,
            now,
        )
        .unwrap();
        assert_eq!(draft.status, DraftStatus::AwaitingApproval);
        assert_eq!(draft.case_id.as_deref(), Some("alert:7"));
        assert_eq!(draft.text, "We are aware and looking into it.");
        assert_eq!(audit.len(), 2);
        let boss = Actor::new("olive", Role::Admin);
        assert!(approval::approve(&mut draft, &boss, None, &verdict, now).is_err());
        let other = Actor::new("amir", Role::Approver);
        approval::approve(&mut draft, &other, None, &verdict, now).unwrap();
        assert_eq!(draft.approved_by.as_deref(), Some("amir"));
        assert!(holding_statement(7, Network::X, "  ", &author, &verdict, now).is_err());
        assert!(holding_statement(7, Network::News, "Hello.", &author, &verdict, now).is_err());
    }

    #[test]
    fn holding_statements_link_to_their_crisis_view() {
        assert_eq!(statement_alert("alert:42"), Some(42));
        assert_eq!(statement_alert("mastodon:42"), None);
        assert_eq!(statement_alert("alert:x"), None);
    }

    #[test]
    fn the_chart_interval_grows_with_the_alert() {
        assert_eq!(bucket_seconds(SignedDuration::from_mins(20)), 300);
        assert_eq!(bucket_seconds(SignedDuration::from_hours(8)), 900);
        assert_eq!(bucket_seconds(SignedDuration::from_hours(30)), 3_600);
    }
}
