//! Who does what: the acting user, with a role from [`model::Role`] (declared once there).

use serde::{Deserialize, Serialize};

pub use model::{Role, UnknownRole};

/// The person acting: their user name and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user name, as in the audit log.
    pub name: String,
    /// Their role.
    pub role: Role,
}

impl Actor {
    /// An actor.
    pub fn new(name: impl Into<String>, role: Role) -> Actor {
        Actor {
            name: name.into(),
            role,
        }
    }
}
