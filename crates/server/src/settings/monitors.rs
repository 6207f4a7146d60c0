//! Monitors: named listening queries that tag posts (a change retags every post), and
//! `GET /api/monitors`.

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use model::Network;
use serde::Deserialize;
use store::Monitor;

use crate::{
    ApiError, AppState, PageError,
    account::CsrfForm,
    auth::CurrentUser,
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The routes of the monitors page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/monitors", get(monitors).post(save_monitor))
        .route("/settings/monitors/{id}", post(update_monitor))
        .route("/settings/monitors/{id}/edit", get(edit_monitor))
        .route("/settings/monitors/{id}/delete", post(delete_monitor))
        .route("/api/monitors", get(api_monitors))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/monitors",
    "Monitors (named listening queries).",
    "viewer",
    &[],
)];

/// A monitor as the settings page lists it.
pub struct MonitorRow {
    id: i64,
    name: String,
    query: String,
    networks: String,
    languages: String,
    authors: String,
}

#[derive(Template)]
#[template(path = "monitors.html")]
struct MonitorsTemplate {
    layout: Layout,
    monitors: Vec<MonitorRow>,
    can_manage: bool,
}

fn any(list: Vec<String>) -> String {
    if list.is_empty() {
        "any".to_owned()
    } else {
        list.join(", ")
    }
}

/// `GET /settings/monitors`.
pub async fn monitors(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let list = blocking(&state, |store| Ok(store.monitors()?)).await?;
    let template = MonitorsTemplate {
        layout: Layout::new("Monitors", &page, "monitors"),
        monitors: list
            .into_iter()
            .map(|m| MonitorRow {
                id: m.id,
                name: m.name,
                query: m.query,
                networks: any(m.networks.iter().map(|n| n.label().to_owned()).collect()),
                languages: any(m.languages),
                authors: any(m.authors),
            })
            .collect(),
        can_manage: Action::ManageMonitors.allowed(user.user.role),
    };
    Ok(render(&template))
}

/// The monitor form.
#[derive(Debug, Deserialize)]
pub struct MonitorForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The name.
    pub name: String,
    /// The query.
    pub query: String,
    /// Networks, comma separated.
    #[serde(default)]
    pub networks: String,
    /// Languages, comma separated.
    #[serde(default)]
    pub languages: String,
    /// Authors, comma separated.
    #[serde(default)]
    pub authors: String,
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a monitor form and turns it into a monitor.
pub fn monitor_from(form: &MonitorForm) -> Result<Monitor, ApiError> {
    let networks = list(&form.networks)
        .iter()
        .map(|n| {
            n.to_ascii_lowercase()
                .parse::<Network>()
                .map_err(|_| ApiError::BadRequest(format!("unknown network `{n}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let monitor = Monitor {
        id: 0,
        name: form.name.trim().to_owned(),
        query: form.query.trim().to_owned(),
        networks,
        languages: list(&form.languages),
        authors: list(&form.authors),
    };
    if monitor.name.is_empty() {
        return Err(ApiError::BadRequest("give the monitor a name".into()));
    }
    monitor
        .compile()
        .map_err(|e| ApiError::BadRequest(format!("the query `{}`: {e}", monitor.query)))?;
    Ok(monitor)
}

/// `POST /settings/monitors`.
pub async fn save_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<MonitorForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageMonitors)?;
    let monitor = monitor_from(&form)?;
    let name = monitor.name.clone();
    let saved = blocking(&state, move |store| Ok(store.save_monitor(&monitor)?)).await?;
    if saved.is_none() {
        return Err(ApiError::Conflict(format!("a monitor called `{name}` exists already")).into());
    }
    Ok(Redirect::to("/settings/monitors").into_response())
}

#[derive(Template)]
#[template(path = "monitor_edit.html")]
struct MonitorEditTemplate {
    layout: Layout,
    id: i64,
    name: String,
    query: String,
    networks: String,
    languages: String,
    authors: String,
}

/// `GET /settings/monitors/{id}/edit`: the monitor's form, filled in.
pub async fn edit_monitor(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::ManageMonitors)?;
    let list = blocking(&state, |store| Ok(store.monitors()?)).await?;
    let monitor = list
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(ApiError::NotFound)?;
    let template = MonitorEditTemplate {
        layout: Layout::new(
            format!("Change monitor {}", monitor.name),
            &page,
            "monitors",
        ),
        id: monitor.id,
        name: monitor.name,
        query: monitor.query,
        networks: monitor
            .networks
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        languages: monitor.languages.join(", "),
        authors: monitor.authors.join(", "),
    };
    Ok(render(&template))
}

/// `POST /settings/monitors/{id}`: changes a monitor in place (same id, so links and saved
/// filters keep working) and retags every post with it.
pub async fn update_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<MonitorForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageMonitors)?;
    let mut monitor = monitor_from(&form)?;
    monitor.id = id;
    let name = monitor.name.clone();
    let saved = blocking(&state, move |store| {
        if !store.monitors()?.iter().any(|m| m.id == id) {
            return Err(ApiError::NotFound);
        }
        Ok(store.save_monitor(&monitor)?)
    })
    .await?;
    if saved.is_none() {
        return Err(ApiError::Conflict(format!("a monitor called `{name}` exists already")).into());
    }
    Ok(Redirect::to("/settings/monitors").into_response())
}

/// `POST /settings/monitors/{id}/delete`.
pub async fn delete_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageMonitors)?;
    if !blocking(&state, move |store| Ok(store.remove_monitor(id)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/settings/monitors").into_response())
}

/// `GET /api/monitors`.
pub async fn api_monitors(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Monitor>>, ApiError> {
    user.require(Action::Read)?;
    Ok(Json(blocking(&state, |store| Ok(store.monitors()?)).await?))
}
