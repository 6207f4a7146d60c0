//! Who may do what: the roles of the people using Switchboard, declared once for the web
//! application, the response matrix, approvals and the command line.
//!
//! Roles are ordered from least to most trusted; what a role may do, every role above it may do.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A role, least trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads the stream, the dashboard and posts.
    Viewer,
    /// A social squad member (a volunteer who replies within the rules): also marks posts as
    /// handled and works on cases.
    Squad,
    /// A communications officer: also manages monitors and saved searches.
    Officer,
    /// A communications director or other approver: what an officer does, and approvals.
    Approver,
    /// Also manages people and their roles.
    Admin,
}

impl Role {
    /// Every role, least trusted first.
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Squad,
        Role::Officer,
        Role::Approver,
        Role::Admin,
    ];

    /// The role's name in the database, on the command line, in the matrix and in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Squad => "squad",
            Role::Officer => "officer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// The role's name for people.
    pub const fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Squad => "Social squad",
            Role::Officer => "Communications officer",
            Role::Approver => "Approver",
            Role::Admin => "Administrator",
        }
    }

    /// Whether this role holds what `needed` holds (it is `needed` or above).
    pub fn at_least(self, needed: Role) -> bool {
        self >= needed
    }

    /// Whether this role may work on cases at all (everyone but viewers).
    pub fn may_work_cases(self) -> bool {
        self >= Role::Squad
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: use admin, approver, officer, squad or viewer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| UnknownRole(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parse() {
        assert!(Role::Approver.at_least(Role::Officer));
        assert!(!Role::Squad.at_least(Role::Officer));
        assert_eq!("Officer".parse::<Role>(), Ok(Role::Officer));
        assert!("boss".parse::<Role>().is_err());
        assert!(!Role::Viewer.may_work_cases());
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
