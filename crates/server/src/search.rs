//! Search: posts matching words in the listening query language, newest first, and the saved
//! searches.

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use store::{StreamOrder, accounts::SavedSearch};

use crate::{
    ApiError, AppState, PageError,
    account::CsrfForm,
    auth::CurrentUser,
    blocking,
    lists::{ListKind, PostPage, api_list, list_page},
    openapi::{ApiRoute, POST_FILTERS},
    page::PageContext,
    roles::Action,
    views::StreamParams,
};

/// The routes of search.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search))
        .route("/search/saved", post(save_search))
        .route("/search/saved/{id}/delete", post(delete_search))
        .route("/api/search", get(api_search))
        .route("/api/saved-searches", get(api_saved_searches))
}

/// The API routes of this module.
pub const API: [ApiRoute; 2] = [
    ApiRoute::get(
        "/api/search",
        "Posts matching the words in `q`, newest first.",
        "viewer",
        &POST_FILTERS,
    ),
    ApiRoute::get(
        "/api/saved-searches",
        "Saved searches, newest first.",
        "viewer",
        &[],
    ),
];

/// `GET /search`.
pub async fn search(
    State(state): State<AppState>,
    page: PageContext,
    Query(params): Query<StreamParams>,
) -> Result<Response, PageError> {
    list_page(state, page, params, ListKind::Search).await
}

/// The save-search form.
#[derive(Debug, Deserialize)]
pub struct SaveSearchForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The name.
    pub name: String,
    /// The search page's query string.
    pub query: String,
}

/// `POST /search/saved`.
pub async fn save_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SaveSearchForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::SaveSearch)?;
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::BadRequest("give the search a name".into()).into());
    }
    let query = form.query.clone();
    let user_id = user.user.id;
    blocking(&state, move |store| {
        Ok(store.save_search(&name, &query, user_id)?)
    })
    .await?;
    Ok(Redirect::to(&format!("/search?{}", form.query)).into_response())
}

/// `POST /search/saved/{id}/delete`.
pub async fn delete_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::SaveSearch)?;
    if !blocking(&state, move |store| Ok(store.remove_saved_search(id)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/search").into_response())
}

/// `GET /api/search` (needs `q`).
pub async fn api_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Json<PostPage>, ApiError> {
    if params.text().is_none() {
        return Err(ApiError::BadRequest("give words to search in `q`".into()));
    }
    api_list(state, user, params, StreamOrder::Newest).await
}

/// `GET /api/saved-searches`.
pub async fn api_saved_searches(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<SavedSearch>>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(
        blocking(&state, |store| Ok(store.saved_searches()?)).await?,
    ))
}
