//! The JSON API: the data of every page, under `/api/`. Same sessions and role checks as the
//! pages; errors are [`ApiError`] bodies. Described by [`crate::openapi`].

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    routing::get,
};
use serde::Serialize;
use store::{Dashboard, Monitor, StreamOrder, accounts::SavedSearch};

use crate::{
    ApiError, AppState,
    auth::CurrentUser,
    blocking, openapi,
    pages::{DashboardParams, load_dashboard, load_post, load_stream},
    roles::Action,
    views::{PostView, StreamParams},
};

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi_document))
        .route("/api/me", get(me))
        .route("/api/stream", get(stream))
        .route("/api/attention", get(attention))
        .route("/api/search", get(search))
        .route("/api/posts/{network}/{id}", get(post))
        .route("/api/dashboard", get(dashboard))
        .route("/api/saved-searches", get(saved_searches))
        .route("/api/monitors", get(monitors))
        .route("/api/users", get(users))
        .route("/api/alerts", get(crate::crisis::api_alerts))
        .route("/api/alerts/{id}", get(crate::crisis::api_alert))
        .route("/api/status", get(crate::status::api_status))
}

/// `GET /api/openapi.json`.
pub async fn openapi_document() -> Json<serde_json::Value> {
    Json(openapi::document())
}

/// Who is logged in.
#[derive(Debug, Serialize)]
pub struct Me {
    /// The login name.
    pub name: String,
    /// The role.
    pub role: store::Role,
    /// The actions the role allows.
    pub may: Vec<Action>,
}

/// `GET /api/me`.
pub async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me {
        name: user.user.name.clone(),
        role: user.user.role,
        may: Action::ALL
            .into_iter()
            .filter(|a| a.allowed(user.user.role))
            .collect(),
    })
}

/// A page of posts.
#[derive(Debug, Serialize)]
pub struct PostPage {
    /// The page number, from 1.
    pub page: usize,
    /// Whether there is a next page.
    pub more: bool,
    /// The posts.
    pub posts: Vec<PostView>,
}

async fn list(
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

/// `GET /api/stream`.
pub async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Json<PostPage>, ApiError> {
    list(state, user, params, StreamOrder::Newest).await
}

/// `GET /api/attention`.
pub async fn attention(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Json<PostPage>, ApiError> {
    list(state, user, params, StreamOrder::Priority).await
}

/// `GET /api/search` (needs `q`).
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Json<PostPage>, ApiError> {
    if params.text().is_none() {
        return Err(ApiError::BadRequest("give words to search in `q`".into()));
    }
    list(state, user, params, StreamOrder::Newest).await
}

/// A post with its analysis, thread, author's posts and history.
#[derive(Debug, Serialize)]
pub struct PostDetail {
    /// The post.
    pub post: PostView,
    /// The full analysis.
    pub analysis: Option<model::analysis::Analysis>,
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
pub async fn post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
) -> Result<Json<PostDetail>, ApiError> {
    user.require(Action::Read)?;
    let network = network.parse().map_err(|_| ApiError::NotFound)?;
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

/// `GET /api/dashboard`.
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<DashboardParams>,
) -> Result<Json<Dashboard>, ApiError> {
    user.require(Action::Read)?;
    let loaded = load_dashboard(&state, &params).await?;
    Ok(Json(Dashboard::clone(&loaded.data)))
}

/// `GET /api/saved-searches`.
pub async fn saved_searches(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<SavedSearch>>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(
        blocking(&state, |store| Ok(store.saved_searches()?)).await?,
    ))
}

/// `GET /api/monitors`.
pub async fn monitors(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Monitor>>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(blocking(&state, |store| Ok(store.monitors()?)).await?))
}

/// A person, without the password hash.
#[derive(Debug, Serialize)]
pub struct UserInfo {
    /// The store's id.
    pub id: i64,
    /// The login name.
    pub name: String,
    /// The role.
    pub role: store::Role,
}

/// `GET /api/users` (admins only).
pub async fn users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<UserInfo>>, ApiError> {
    user.require(Action::ManageUsers)?;
    let users = blocking(&state, |store| Ok(store.users()?)).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| UserInfo {
                id: u.id,
                name: u.name,
                role: u.role,
            })
            .collect(),
    ))
}
