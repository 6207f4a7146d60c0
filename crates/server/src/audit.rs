//! The audit log: every entry, newest first, filtered by subject and person, with the check of
//! its keyed hash chain against the checkpoint kept outside the database (and the chain's head,
//! to compare with the log output or note elsewhere), and the whole log as CSV.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use store::{AuditQuery, AuditReport};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
    views::uk_time,
};

/// The routes of the audit log.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit))
        .route("/audit/export.csv", get(audit_csv))
}

/// The API routes of this module (none yet).
pub const API: [ApiRoute; 0] = [];

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
    entries: Vec<AuditRow>,
    subject: String,
    actor: String,
    older: Option<String>,
    report: AuditReport,
}

/// One entry as the page shows it.
struct AuditRow {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    /// The page of entries about the same subject.
    subject_link: String,
    subject: String,
    detail: String,
    erased: bool,
}

/// How many entries an audit page shows.
const AUDIT_PAGE: usize = 50;

/// `GET /audit`: the log, newest first, filtered by subject and user, with the chain check.
pub async fn audit(
    State(state): State<AppState>,
    page: PageContext,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::ReadAudit)?;
    let subject = params.subject.clone().unwrap_or_default();
    let actor_name = params.actor.clone().unwrap_or_default();
    let query = AuditQuery {
        subject: Some(subject.trim().to_owned()).filter(|s| !s.is_empty()),
        actor: Some(actor_name.trim().to_owned()).filter(|s| !s.is_empty()),
        before_seq: params.before,
        limit: AUDIT_PAGE,
    };
    let (entries, report) = blocking(&state, move |store| {
        Ok((store.audit_search(&query)?, store.verify_audit(&[])?))
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
        layout: Layout::new("Audit log", &page, "audit"),
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                seq: e.seq,
                at: uk_time(e.entry.at),
                actor: e.entry.actor,
                action: e.entry.action,
                subject_link: format!(
                    "/audit?subject={}",
                    crate::auth::form_urlencode(&e.entry.subject)
                ),
                subject: e.entry.subject,
                detail: e.entry.detail,
                erased: e.erased,
            })
            .collect(),
        subject,
        actor: actor_name,
        older,
        report,
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
