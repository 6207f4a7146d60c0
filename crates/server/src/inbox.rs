//! The inbox: open cases, soonest due first, with their state, time limit, who holds them and
//! the first words of their post; and `GET /api/inbox`.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use engage::{Case, CaseFilter, CaseState, matrix::format_duration};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    openapi::{ApiRoute, Param},
    page::{Layout, PageContext, render},
    roles::Action,
    views::uk_time,
};

/// The routes of the inbox.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/api/inbox", get(api_inbox))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/inbox",
    "Open cases, soonest due first (`state`, `mine=1`, `breached=1`).",
    "viewer",
    &[
        Param::query(
            "state",
            "new, assigned, drafting, awaiting_approval, answered, closed or all (default: every open state).",
        ),
        Param::query("mine", "1: only cases assigned to me."),
        Param::query("breached", "1: only cases past their time limit."),
    ],
)];

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

pub(crate) fn state_label(state: CaseState) -> String {
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

pub(crate) fn case_href(id: &str) -> String {
    format!("/inbox/case?id={}", crate::auth::form_urlencode(id))
}

impl CaseRow {
    pub(crate) fn new(case: Case, now: Timestamp) -> CaseRow {
        CaseRow {
            href: case_href(&case.id),
            network_label: case.network.label(),
            state_label: state_label(case.state),
            opened_label: uk_time(case.opened_at),
            limit_label: limit_label(&case, now),
            breached: case.breached(now),
            seconds_left: case.time_left(now).map(|d| d.as_secs()),
            author: None,
            excerpt: None,
            case,
        }
    }

    /// Adds the author and a masked excerpt of the case's post.
    pub(crate) fn with_post(mut self, stored: &store::StoredPost) -> CaseRow {
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
    page: PageContext,
    Query(params): Query<InboxParams>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let rows = load_cases(&state, user, &params).await?;
    let mut states = vec![("", "Open (not closed)".to_owned())];
    states.extend(CaseState::ALL.map(|s| (s.as_str(), state_label(s))));
    states.push(("all", "All".to_owned()));
    let page = InboxPage {
        layout: Layout::new("Inbox", &page, "inbox"),
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

#[cfg(test)]
mod tests {
    use super::excerpt;

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
