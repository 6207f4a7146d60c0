//! The post lists shared by the stream, Needs attention and search pages: one page of posts
//! read with its filters, and the list page drawn around it (filters, saved searches, pager).

use askama::Template;
use axum::{Json, response::Response};
use model::{
    Network,
    analysis::{IntentKind, SentimentLabel},
};
use serde::Serialize;
use store::{StoredPost, StreamFilter, StreamOrder, accounts::SavedSearch};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    page::{Layout, PageContext, render},
    roles::Action,
    views::{
        CardActions, PAGE_SIZE, PostView, StreamParams, attach_case, intent_label, monitor_names,
        sentiment_label,
    },
};

/// A page of posts with what the desk knows.
pub struct StreamPage {
    /// The posts.
    pub posts: Vec<PostView>,
    /// Whether there is a next page.
    pub more: bool,
}

/// The views of the posts of `entries`, read with one store call, in the entries' order.
pub(crate) fn views_of(
    store: &dyn store::WebStore,
    entries: &[store::StreamEntry],
    names: &std::collections::HashMap<i64, String>,
) -> Result<Vec<PostView>, ApiError> {
    let wanted: Vec<(Network, String)> =
        entries.iter().map(|e| (e.network, e.id.clone())).collect();
    let mut found: std::collections::HashMap<(Network, String), StoredPost> = store
        .posts(&wanted)?
        .into_iter()
        .map(|p| ((p.post.network, p.post.id.clone()), p))
        .collect();
    let mut views = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some(stored) = found.remove(&(entry.network, entry.id.clone())) {
            let mut view = PostView::new(&stored, Some(entry), names);
            attach_case(store, &mut view, &stored.post)?;
            views.push(view);
        }
    }
    Ok(views)
}

/// Reads one page of a stream.
pub async fn load_stream(state: &AppState, filter: StreamFilter) -> Result<StreamPage, ApiError> {
    blocking(state, move |store| {
        let entries = store.stream(&filter)?;
        let names = monitor_names(&store.monitors()?);
        let more = entries.len() > PAGE_SIZE;
        let shown = &entries[..entries.len().min(PAGE_SIZE)];
        Ok(StreamPage {
            posts: views_of(store, shown, &names)?,
            more,
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "stream.html")]
struct StreamTemplate {
    layout: Layout,
    intro: Option<String>,
    /// The filters in force, in words, with the order (the folded filters' one line).
    filter_summary: String,
    /// Whether the filters show unfolded (search: the words box is the page).
    filters_open: bool,
    action: &'static str,
    params: StreamParams,
    monitors: Vec<(i64, String, bool)>,
    networks: Vec<(&'static str, &'static str, bool)>,
    sentiments: Vec<(&'static str, &'static str, bool)>,
    intents: Vec<(&'static str, &'static str, bool)>,
    save: Option<String>,
    saved: Vec<SavedSearch>,
    can_save: bool,
    heading: String,
    posts: Vec<PostView>,
    /// The live list (`list=...&filters`) when new posts arrive on this page.
    live_list: Option<String>,
    /// The number of the newest post seen when the page was read.
    seq: u64,
    actions: CardActions,
    prev: Option<String>,
    next: Option<String>,
    page: usize,
}

/// Which list page is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// Every post, newest first.
    Stream,
    /// Posts not handled, highest priority first.
    Attention,
    /// Posts matching words, newest first.
    Search,
}

pub(crate) async fn list_page(
    state: AppState,
    page_context: PageContext,
    params: StreamParams,
    kind: ListKind,
) -> Result<Response, PageError> {
    let user = &page_context.user;
    user.require(Action::Read)?;
    let order = if kind == ListKind::Attention {
        StreamOrder::Priority
    } else {
        StreamOrder::Newest
    };
    let filter = params.filter(order)?;
    let page = params.page();
    // Read before the posts: a post numbered later may be on the page too (the list skips
    // items it has), but none is missed.
    let seq = state.live.latest();
    let (monitors, saved) = blocking(&state, move |store| {
        let saved = if kind == ListKind::Search {
            store.saved_searches()?
        } else {
            Vec::new()
        };
        Ok((store.monitors()?, saved))
    })
    .await?;
    let loaded = if kind == ListKind::Search && params.text().is_none() {
        StreamPage {
            posts: Vec::new(),
            more: false,
        }
    } else {
        load_stream(&state, filter).await?
    };
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let (title, action, nav, intro) = match kind {
        ListKind::Stream => ("Live stream", "/stream", "stream", None),
        ListKind::Attention => ("Needs attention", "/attention", "attention", None),
        ListKind::Search => ("Search", "/search", "search", None),
    };
    let query = params.with_page(1);
    let can_save = Action::SaveSearch.allowed(user.user.role);
    let live = matches!(kind, ListKind::Stream | ListKind::Attention) && page == 1;
    let live_list = live.then(|| {
        let list = if kind == ListKind::Attention {
            "attention"
        } else {
            "stream"
        };
        format!("list={list}&{query}")
    });
    let layout = Layout::new(title, &page_context, nav);
    let heading = match kind {
        ListKind::Search if params.text().is_none() => "Write some words to search".to_owned(),
        ListKind::Search => "Results, newest first".to_owned(),
        ListKind::Attention => "Posts to look at".to_owned(),
        ListKind::Stream => "Posts, newest first".to_owned(),
    };
    let template = StreamTemplate {
        layout,
        intro,
        action,
        monitors: monitors
            .iter()
            .map(|m| {
                (
                    m.id,
                    m.name.clone(),
                    selected(&params.monitor, &m.id.to_string()),
                )
            })
            .collect(),
        networks: Network::ALL
            .iter()
            .map(|n| (n.as_str(), n.label(), selected(&params.network, n.as_str())))
            .collect(),
        sentiments: [
            SentimentLabel::Negative,
            SentimentLabel::Neutral,
            SentimentLabel::Positive,
        ]
        .into_iter()
        .map(|s| {
            (
                s.as_str(),
                sentiment_label(s),
                selected(&params.sentiment, s.as_str()),
            )
        })
        .collect(),
        intents: IntentKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    intent_label(*k),
                    selected(&params.intent, k.as_str()),
                )
            })
            .collect(),
        filter_summary: filter_summary(&params, &monitors, kind),
        filters_open: kind == ListKind::Search,
        save: (kind == ListKind::Search && can_save && params.text().is_some())
            .then(|| query.clone()),
        saved,
        can_save,
        heading,
        posts: loaded.posts,
        live_list,
        seq,
        actions: CardActions::for_user(user, format!("{action}?{}", params.with_page(page))),
        prev: (page > 1).then(|| params.with_page(page - 1)),
        next: loaded.more.then(|| params.with_page(page + 1)),
        page,
        params,
    };
    Ok(render(&template))
}

/// The filters in force, in words, and the list's order: `Network X, Negative · newest first`.
fn filter_summary(params: &StreamParams, monitors: &[store::Monitor], kind: ListKind) -> String {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(q) = given(&params.q) {
        parts.push(format!("words \u{201c}{q}\u{201d}"));
    }
    if let Some(id) = given(&params.monitor) {
        let name = monitors
            .iter()
            .find(|m| m.id.to_string() == id)
            .map_or(id, |m| m.name.as_str());
        parts.push(format!("monitor {name}"));
    }
    if let Some(network) = given(&params.network) {
        let label = network.parse::<Network>().map_or(network, |n| n.label());
        parts.push(label.to_owned());
    }
    if let Some(sentiment) = given(&params.sentiment) {
        parts.push(sentiment.to_owned());
    }
    if let Some(intent) = given(&params.intent) {
        parts.push(
            IntentKind::ALL
                .iter()
                .find(|k| k.as_str() == intent)
                .map_or(intent, |k| intent_label(*k))
                .to_owned(),
        );
    }
    if let Some(theme) = given(&params.theme) {
        parts.push(format!("theme {}", theme.replace('_', " ")));
    }
    if let Some(lang) = given(&params.lang) {
        parts.push(format!("language {lang}"));
    }
    if let Some(since) = given(&params.since) {
        parts.push(format!("from {since}"));
    }
    if let Some(until) = given(&params.until) {
        parts.push(format!("until {until}"));
    }
    let order = match kind {
        ListKind::Attention => "highest priority first",
        ListKind::Stream | ListKind::Search => "newest first",
    };
    if parts.is_empty() {
        format!("none \u{b7} {order}")
    } else {
        format!("{} \u{b7} {order}", parts.join(", "))
    }
}

/// One page of posts (the JSON of the post lists).
#[derive(Debug, Serialize)]
pub struct PostPage {
    /// The page number, from 1.
    pub page: usize,
    /// Whether there is a next page.
    pub more: bool,
    /// The posts.
    pub posts: Vec<PostView>,
}

/// One page of posts in `order` with the filters of `params`, as JSON.
pub(crate) async fn api_list(
    state: AppState,
    user: CurrentUser,
    params: StreamParams,
    order: StreamOrder,
) -> Result<Json<PostPage>, ApiError> {
    user.require(Action::Read)?;
    let filter = params.filter(order)?;
    let loaded = load_stream(&state, filter).await?;
    Ok(Json(PostPage {
        page: params.page(),
        more: loaded.more,
        posts: loaded.posts,
    }))
}
