//! Stories: the pipeline of the organisation's and leaders' own posts (ideas and drafts,
//! awaiting approval, approved, scheduled, published) and the week's calendar.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use engage::{Draft, DraftStatus, NewAuditEntry};
use jiff::Timestamp;
use model::Network;
use serde::Deserialize;
use store::DraftFilter;

use crate::{
    ApiError, AppState, PageError, blocking,
    draft::{DraftRow, parse_local},
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
    views::london,
};

/// The routes of the stories page.
pub fn routes() -> Router<AppState> {
    Router::new().route("/stories", get(stories).post(new_story))
}

/// The API routes of this module (none yet).
pub const API: [ApiRoute; 0] = [];

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
    page: &PageContext,
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
        layout: Layout::new("Stories", page, "stories"),
        columns,
        days,
        week_label: format!("Week of {}", monday.strftime("%-d %B %Y")),
        previous: shift(-7),
        next: shift(7),
        leaders,
        can_plan: Action::PlanStories.allowed(page.user.user.role),
        error,
    };
    Ok((status, render(&page)).into_response())
}

/// `GET /stories?week=`: the pipeline and the week's calendar.
pub async fn stories(
    State(state): State<AppState>,
    page: PageContext,
    Query(params): Query<StoriesParams>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    stories_response(&state, &page, &params, StatusCode::OK, None).await
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
    page: PageContext,
    Form(form): Form<StoryForm>,
) -> Result<Response, PageError> {
    let user = &page.user;
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
                &page,
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
