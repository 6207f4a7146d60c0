//! One post: its text (personal data masked), the analysis with its figures, the thread, the
//! author's recent posts and the post's history; marking a post as handled.

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use engage::{
    Actor, Case, CaseState, DraftStatus, Inbox, InboxError, NewAuditEntry, Subject, thread_key,
};
use jiff::Timestamp;
use model::{
    Network,
    analysis::{Analysis, LanguageSource},
};
use serde::{Deserialize, Serialize};
use store::{DraftFilter, StoredPost, WebStore};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    engage_work::active_matrix,
    openapi::{ApiRoute, Param},
    page::{Layout, PageContext, render},
    roles::Action,
    views::{CardActions, PostView, attach_case, london, monitor_names},
};

/// The routes of the post page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/posts/{network}/{id}", get(post_page))
        .route("/posts/{network}/{id}/handled", post(mark_handled))
        .route("/posts/{network}/{id}/case", post(start_case))
        .route("/posts/{network}/{id}/reply", post(reply))
        .route("/api/posts/{network}/{id}", get(api_post))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/posts/{network}/{id}",
    "One post with its analysis, thread, author's posts and history.",
    "viewer",
    &[
        Param::path(
            "network",
            "x, mastodon, bluesky, facebook, news or feedback.",
        ),
        Param::path("id", "The network's id of the post."),
    ],
)];

/// The mark-as-handled form.
#[derive(Debug, Deserialize)]
pub struct HandledForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The page to go back to.
    #[serde(default)]
    pub back: Option<String>,
}

fn network_of(name: &str) -> Result<Network, ApiError> {
    name.parse().map_err(|_| ApiError::NotFound)
}

/// `POST /posts/{network}/{id}/handled`.
pub async fn mark_handled(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
    Form(form): Form<HandledForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::MarkHandled)?;
    let network = network_of(&network)?;
    let user_id = user.user.id;
    let found = blocking(&state, move |store| {
        Ok(store.mark_handled(network, &id, user_id, Timestamp::now())?)
    })
    .await?;
    if !found {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to(&crate::account::safe_next(form.back.as_deref())).into_response())
}

/// The case of a post's conversation: the one there is, or a new one opened by `who` under
/// the rule the matrix gives the post (a case by hand when the rule opens none, or no rule
/// takes it), held by `who` when nobody holds it.
fn case_for(
    store: &dyn WebStore,
    network: Network,
    id: &str,
    who: &Actor,
) -> Result<Case, ApiError> {
    let stored = store.post(network, id)?.ok_or(ApiError::NotFound)?;
    let now = Timestamp::now();
    let key = thread_key(&stored.post);
    if let Some(mut case) = store.case(&key)? {
        if case.assignee.is_none() && case.state != CaseState::Closed {
            let audit = case
                .assign(who, &who.name, now)
                .map_err(|e| ApiError::from(&InboxError::from(e)))?;
            store.save_case(&case, &[audit])?;
        }
        return Ok(case);
    }
    let matrix = active_matrix(store)?;
    let rule = stored.analysis.as_ref().and_then(|analysis| {
        let entry_monitors: Vec<String> = Vec::new();
        matrix
            .evaluate(&Subject::new(&stored.post, analysis, &entry_monitors))
            .cloned()
    });
    let mut case = Case {
        id: key,
        network,
        post_id: stored.post.id.clone(),
        rule: rule
            .as_ref()
            .map_or_else(|| BY_HAND.to_owned(), |r| r.name.clone()),
        action: rule.as_ref().map_or_else(
            || "respond as the team sees fit".to_owned(),
            |r| r.action.describe(),
        ),
        state: CaseState::New,
        assignee: None,
        opened_at: now,
        due_at: rule
            .as_ref()
            .and_then(|r| r.respond_within)
            .and_then(|d| now.checked_add(d).ok()),
        first_response_at: None,
        updated_at: now,
    };
    let opened = NewAuditEntry::new(
        now,
        &who.name,
        "case.open",
        case.subject(),
        format!(
            "opened by hand from post {} (rule {})",
            stored.post.id, case.rule
        ),
    );
    let taken = case
        .assign(who, &who.name, now)
        .map_err(|e| ApiError::from(&InboxError::from(e)))?;
    store.save_case(&case, &[opened, taken])?;
    Ok(case)
}

/// The rule name of a case opened by hand for a post no rule takes.
pub const BY_HAND: &str = "opened by hand";

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
}

/// `POST /posts/{network}/{id}/case`: opens the case of the post's conversation (or goes to
/// the one there is), held by the person.
pub async fn start_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let network = network_of(&network)?;
    let who = user.actor();
    let case = blocking(&state, move |store| case_for(store, network, &id, &who)).await?;
    Ok(Redirect::to(&crate::inbox::case_href(&case.id)).into_response())
}

/// `POST /posts/{network}/{id}/reply`: the reply to the post: the draft being written in its
/// conversation's case, or a new one from the case's rule (the case opened first when needed).
pub async fn reply(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::WorkCases)?;
    let network = network_of(&network)?;
    let who = user.actor();
    let runtime = std::sync::Arc::clone(&state.engage);
    let draft = blocking(&state, move |store| {
        let mut case = case_for(store, network, &id, &who)?;
        let open = store
            .drafts(&DraftFilter {
                case_id: Some(case.id.clone()),
                ..DraftFilter::default()
            })?
            .into_iter()
            .find(|d| {
                matches!(
                    d.status,
                    DraftStatus::Editing
                        | DraftStatus::Rejected
                        | DraftStatus::AwaitingApproval
                        | DraftStatus::Approved
                )
            });
        if let Some(draft) = open {
            return Ok(draft.id);
        }
        let matrix = active_matrix(store)?;
        let post = store.post(case.network, &case.post_id)?;
        let values = crate::case::template_values(
            &runtime,
            &matrix,
            post.as_ref().map(|p| &p.post),
            &who.name,
        );
        let inbox = Inbox::new(&matrix, runtime.checker()?);
        let (draft, audit) = inbox
            .start_reply(&mut case, &who, &values, Timestamp::now())
            .map_err(|e| ApiError::from(&e))?;
        store.save_draft(&draft, Some(&case), &audit)?;
        Ok(draft.id)
    })
    .await?;
    Ok(Redirect::to(&format!("/drafts/{draft}")).into_response())
}

#[derive(Template)]
#[template(path = "post.html")]
struct PostTemplate {
    layout: Layout,
    post: PostView,
    analysis: Option<Analysis>,
    language_source: &'static str,
    thread: Vec<PostView>,
    recent: Vec<PostView>,
    bio: Option<String>,
    followers: Option<u64>,
    history: Vec<(String, String, bool)>,
    actions: CardActions,
}

/// Everything the post page shows.
pub struct PostDetails {
    /// The post.
    pub stored: StoredPost,
    /// Its view.
    pub view: PostView,
    /// The thread around it.
    pub thread: Vec<PostView>,
    /// The author's recent posts.
    pub recent: Vec<PostView>,
    /// Versions: time, text, current.
    pub history: Vec<(String, String, bool)>,
}

/// Reads a post with its thread, author's posts and history.
pub async fn load_post(
    state: &AppState,
    network: Network,
    id: String,
) -> Result<PostDetails, ApiError> {
    blocking(state, move |store| {
        let stored = store.post(network, &id)?.ok_or(ApiError::NotFound)?;
        let names = monitor_names(&store.monitors()?);
        let entry = store.desk_entry(network, &id)?;
        let mut view = PostView::new(&stored, entry.as_ref(), &names);
        attach_case(store, &mut view, &stored.post)?;
        let thread = crate::lists::views_of(store, &store.thread(network, &id, 50)?, &names)?;
        let recent = crate::lists::views_of(store, &store.author_posts(network, &id, 10)?, &names)?;
        let history = store
            .history(network, &id)?
            .into_iter()
            .map(|v| {
                (
                    v.version_at
                        .to_zoned(london())
                        .strftime("%-d %b %Y %H:%M")
                        .to_string(),
                    v.text,
                    v.current,
                )
            })
            .collect();
        Ok(PostDetails {
            stored,
            view,
            thread,
            recent,
            history,
        })
    })
    .await
}

/// `GET /posts/{network}/{id}`.
pub async fn post_page(
    State(state): State<AppState>,
    page: PageContext,
    Path((network, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let network = network_of(&network)?;
    let details = load_post(&state, network, id).await?;
    let analysis = details.stored.analysis.clone();
    let language_source = match analysis.as_ref().map(|a| a.language.source) {
        Some(LanguageSource::Declared) => "declared by the network or author",
        Some(LanguageSource::Detected) => "detected from the text",
        Some(LanguageSource::Default) => "too little text: English assumed",
        None => "",
    };
    let back = details.view.href.clone();
    let template = PostTemplate {
        layout: Layout::new(format!("Post by @{}", details.view.author), &page, ""),
        actions: CardActions::for_user(user, back),
        bio: details.stored.post.author.bio.clone(),
        followers: details.stored.post.author.followers,
        post: details.view,
        analysis,
        language_source,
        thread: details.thread,
        recent: details.recent,
        history: details.history,
    };
    Ok(render(&template))
}

/// A post with its analysis, thread, author's posts and history.
#[derive(Debug, Serialize)]
pub struct PostDetail {
    /// The post.
    pub post: PostView,
    /// The full analysis.
    pub analysis: Option<Analysis>,
    /// The thread around it, oldest first.
    pub thread: Vec<PostView>,
    /// The author's recent posts.
    pub author_posts: Vec<PostView>,
    /// Versions, oldest first.
    pub history: Vec<Version>,
}

/// One version of a post.
#[derive(Debug, Serialize)]
pub struct Version {
    /// When (UK time).
    pub at: String,
    /// The words.
    pub text: String,
    /// Whether it is the current version.
    pub current: bool,
}

/// `GET /api/posts/{network}/{id}`.
pub async fn api_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
) -> Result<Json<PostDetail>, ApiError> {
    user.require(Action::Read)?;
    let network = network_of(&network)?;
    let details = load_post(&state, network, id).await?;
    Ok(Json(PostDetail {
        post: details.view,
        analysis: details.stored.analysis,
        thread: details.thread,
        author_posts: details.recent,
        history: details
            .history
            .into_iter()
            .map(|(at, text, current)| Version { at, text, current })
            .collect(),
    }))
}
