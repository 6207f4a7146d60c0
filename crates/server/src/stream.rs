//! The live stream: every post about the organisation, newest first, with filters; new posts
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

/// The routes of the stream.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stream", get(stream))
        .route("/api/stream", get(api_stream))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/stream",
    "The live stream: posts newest first, filtered.",
    "viewer",
    &POST_FILTERS,
)];

/// `GET /stream`.
pub async fn stream(
    State(state): State<AppState>,
    page: PageContext,
    Query(params): Query<StreamParams>,
) -> Result<Response, PageError> {
    list_page(state, page, params, ListKind::Stream).await
}

/// `GET /api/stream`.
pub async fn api_stream(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Json<PostPage>, ApiError> {
    api_list(state, user, params, StreamOrder::Newest).await
}
