//! `switchboard user`: add people who may log in to the web application, list them, and set a
//! password. Passwords come from `--password`, standard input, or a prompt.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use store::{AccountStore, Role, SqliteStore};

use crate::common::DbArgs;

/// Arguments of `switchboard user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
    #[command(flatten)]
    pub db: DbArgs,
}

/// What to do with people.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person who may log in.
    Add {
        /// The login name.
        name: String,
        /// What they may do: admin, approver, officer, squad or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The password (otherwise read from standard input, or prompted for).
        #[arg(long, env = "SWITCHBOARD_PASSWORD")]
        password: Option<String>,
    },
    /// List people and their roles.
    List,
    /// Set a person's password (their sessions end).
    Password {
        /// The login name.
        name: String,
        /// The new password (otherwise read from standard input, or prompted for).
        #[arg(long, env = "SWITCHBOARD_PASSWORD")]
        password: Option<String>,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    value
        .parse()
        .map_err(|e: store::accounts::UnknownRole| e.to_string())
}

/// The shortest password accepted.
const MIN_PASSWORD: usize = 10;

fn read_password(given: Option<String>) -> anyhow::Result<String> {
    let password = match given {
        Some(password) => password,
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("Password (shown as you type): ");
                std::io::stderr().flush().ok();
            }
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.chars().count() < MIN_PASSWORD {
        bail!("the password must have at least {MIN_PASSWORD} characters");
    }
    Ok(password)
}

/// Runs `switchboard user`.
pub fn run(args: &UserArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open(&args.db.path)
        .with_context(|| format!("cannot open the database {}", args.db.path.display()))?;
    match &args.command {
        UserCommand::Add {
            name,
            role,
            password,
        } => {
            let password = read_password(password.clone())?;
            let hash = server::auth::hash_password(&password)?;
            match store.add_user(name.trim(), *role, &hash)? {
                Some(user) => outln!("Added {} as {}.", user.name, user.role.label())?,
                None => bail!("`{name}` exists already; use `switchboard user password {name}`"),
            }
        }
        UserCommand::List => {
            for user in store.users()? {
                outln!("{:<24} {}", user.name, user.role.as_str())?;
            }
        }
        UserCommand::Password { name, password } => {
            let Some(user) = store.user_by_name(name)? else {
                bail!("no one is called `{name}`; see `switchboard user list`");
            };
            let password = read_password(password.clone())?;
            let hash = server::auth::hash_password(&password)?;
            store.set_password(user.id, &hash)?;
            outln!(
                "Password of {} changed; their sessions have ended.",
                user.name
            )?;
        }
    }
    Ok(())
}

/// Adds (or resets) a person with a fresh random password; returns the password.
pub fn ensure_user(store: &SqliteStore, name: &str, role: Role) -> anyhow::Result<String> {
    let password = server::auth::random_token()?
        .get(..16)
        .map(str::to_owned)
        .context("a random password could not be made")?;
    let hash = server::auth::hash_password(&password)?;
    match store.user_by_name(name)? {
        Some(user) => {
            store.set_password(user.id, &hash)?;
            store.set_role(user.id, role)?;
        }
        None => {
            store.add_user(name, role, &hash)?;
        }
    }
    Ok(password)
}
