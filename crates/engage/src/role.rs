//! Who does what: the roles of the people using Switchboard and the acting user.
//!
//! Roles are ordered from least to most trusted; a permission given to a role is also held by
//! every role above it. The names match the roles of the store's user accounts, so the web
//! application maps one to the other with [`Role::from_str`](std::str::FromStr).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A role, least trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads only.
    Viewer,
    /// A social squad member: a volunteer who replies within the rules.
    Squad,
    /// A communications officer.
    Officer,
    /// A communications director or other approver.
    Approver,
    /// An administrator.
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

    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Squad => "squad",
            Role::Officer => "officer",
            Role::Approver => "approver",
            Role::Admin => "admin",
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

/// A role name that Switchboard does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: use one of viewer, squad, officer, approver, admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

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
    }
}
