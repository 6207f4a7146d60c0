//! People and their roles (administrators only): add a person, change a role, reset a password,
//! remove a person; and `GET /api/users`.

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use store::{Role, User};

use crate::{
    ApiError, AppState, PageError,
    account::{CsrfForm, MIN_PASSWORD, check_new_password},
    auth::{self, CurrentUser},
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The routes of the people page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/users", get(users).post(add_user))
        .route("/settings/users/{id}/role", post(set_role))
        .route("/settings/users/{id}/delete", post(delete_user))
        .route("/settings/users/{id}/password", post(reset_password))
        .route("/api/users", get(api_users))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/users",
    "People and their roles.",
    "admin",
    &[],
)];

#[derive(Template)]
#[template(path = "users.html")]
struct UsersTemplate {
    layout: Layout,
    users: Vec<User>,
    roles: &'static [Role],
}

/// `GET /settings/users` (admins only).
pub async fn users(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::ManageUsers)?;
    let users = blocking(&state, |store| Ok(store.users()?)).await?;
    let template = UsersTemplate {
        layout: Layout::new("Users", &page, "users"),
        users,
        roles: &Role::ALL,
    };
    Ok(render(&template))
}

/// The add-person form.
#[derive(Debug, Deserialize)]
pub struct UserForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The login name.
    pub name: String,
    /// The role.
    pub role: String,
    /// The password.
    pub password: String,
}

/// `POST /settings/users`.
pub async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: store::accounts::UnknownRole| ApiError::BadRequest(e.to_string()))?;
    let name = form.name.trim().to_owned();
    if name.is_empty() || form.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::BadRequest(format!(
            "give a name and a password of at least {MIN_PASSWORD} characters"
        ))
        .into());
    }
    let password = form.password;
    let taken = name.clone();
    let added = blocking(&state, move |store| {
        let hash = auth::hash_password(&password)?;
        Ok(store.add_user(&name, role, &hash)?)
    })
    .await?;
    if added.is_none() {
        return Err(ApiError::Conflict(format!("`{taken}` exists already")).into());
    }
    Ok(Redirect::to("/settings/users").into_response())
}

/// The change-role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The new role.
    pub role: String,
}

/// `POST /settings/users/{id}/role`.
pub async fn set_role(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: store::accounts::UnknownRole| ApiError::BadRequest(e.to_string()))?;
    if !blocking(&state, move |store| Ok(store.set_role(id, role)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/settings/users").into_response())
}

/// The reset-password form (an admin sets another person's password).
#[derive(Debug, Deserialize)]
pub struct ResetPasswordForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The new password.
    pub password: String,
}

/// `POST /settings/users/{id}/password`: an admin sets a new password for a person; every
/// session of that person ends, so they log in again with the new one.
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ResetPasswordForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    check_new_password(&form.password)?;
    let password = form.password;
    let changed = blocking(&state, move |store| {
        let hash = auth::hash_password(&password)?;
        Ok(store.set_password(id, &hash)?)
    })
    .await?;
    if !changed {
        return Err(ApiError::NotFound.into());
    }
    if id == user.user.id {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(Redirect::to("/settings/users").into_response())
}

/// `POST /settings/users/{id}/delete`.
pub async fn delete_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    if id == user.user.id {
        return Err(ApiError::BadRequest("you cannot remove yourself".into()).into());
    }
    if !blocking(&state, move |store| Ok(store.remove_user(id)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/settings/users").into_response())
}

/// A person, without the password hash.
#[derive(Debug, Serialize)]
pub struct UserInfo {
    /// The store's id.
    pub id: i64,
    /// The login name.
    pub name: String,
    /// The role.
    pub role: Role,
}

/// `GET /api/users` (admins only).
pub async fn api_users(
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
