//! Needs attention: posts not yet handled, highest priority first; new high-priority posts
//! arrive on the open page (see [`crate::live`]).

use axum::{
    Json, Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use store::StreamOrder;

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    lists::{ListKind, PostPage, api_list, list_page},
    openapi::{ApiRoute, POST_FILTERS},
    page::PageContext,
    views::StreamParams,
};

/// The routes of Needs attention.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/attention", get(attention))
        .route("/api/attention", get(api_attention))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/attention",
    "Posts not handled, highest priority first.",
    "viewer",
    &POST_FILTERS,
)];

/// `GET /attention`.
pub async fn attention(
    State(state): State<AppState>,
    page: PageContext,
    Query(params): Query<StreamParams>,
) -> Result<Response, PageError> {
    list_page(state, page, params, ListKind::Attention).await
}

/// `GET /api/attention`.
pub async fn api_attention(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Json<PostPage>, ApiError> {
    api_list(state, user, params, StreamOrder::Priority).await
}
