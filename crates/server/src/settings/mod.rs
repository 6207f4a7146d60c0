//! The settings pages: monitors and people (and, beside them, whatever else the desk is
//! configured with). One module per page, merged here.

pub mod erasure;
pub mod monitors;
pub mod users;

use axum::Router;

use crate::AppState;

/// The routes of every settings page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(monitors::routes())
        .merge(users::routes())
        .merge(erasure::routes())
}
