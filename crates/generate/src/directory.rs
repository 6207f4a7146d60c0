//! The demo trust's directory of organisations, people and accounts: the accounts the trust's
//! communications team would know and list (the trust itself, its chief executive, the peer
//! trusts and the ICB, the local press), as a CSV file in the format that
//! `switchboard directory import` reads. Staff, clinicians, journalists and the public are not
//! listed: who they are is for the analysis to tell.
//!
//! The handles are those the generators write for each network (a Mastodon account's server
//! depends on the seed), with the X user id and the Bluesky DID (Jetstream events name authors
//! by DID only), so the directory always matches the traffic it comes with.

use std::collections::BTreeMap;

use crate::{Config, Generator, OutputFormat, people::Role};

/// One row of the directory: the columns of the CSV file.
#[derive(Debug, Default)]
struct Row {
    name: String,
    kind: &'static str,
    parent: String,
    title: String,
    notes: String,
    handles: BTreeMap<&'static str, Vec<String>>,
}

/// The directory CSV of the accounts the generators of `configs` write (one config per network,
/// as the demo writes them). Rows follow the cast: the trust, its chief executive, peers, press.
pub fn directory_csv(configs: &[Config]) -> String {
    let mut rows: Vec<Row> = Vec::new();
    for config in configs {
        let generator = Generator::new(config.clone());
        let cast = &generator.cast;
        let org = &config.organisation;
        let named = std::iter::once(cast.org)
            .chain([cast.ceo])
            .chain(cast.peers.iter().copied())
            .chain(cast.press.iter().copied());
        for index in named {
            let Some(account) = cast.accounts.get(index) else {
                continue;
            };
            let (network, handle) = match config.format {
                OutputFormat::X => ("x", format!("{} ({})", account.username, account.x_id)),
                OutputFormat::Mastodon => (
                    "mastodon",
                    format!(
                        "{}@{}",
                        account.username,
                        account.instance.unwrap_or(crate::mastodon::LOCAL)
                    ),
                ),
                OutputFormat::Bluesky => (
                    "bluesky",
                    format!("{} ({})", account.bsky_handle, account.did),
                ),
            };
            let position = match rows.iter().position(|r| r.name == account.name) {
                Some(position) => position,
                None => {
                    let (kind, parent, title, notes) = match account.role {
                        Role::Organisation => (
                            "own_organisation",
                            String::new(),
                            "NHS foundation trust".to_owned(),
                            "The corporate accounts, run by the communications team".to_owned(),
                        ),
                        Role::ChiefExecutive => (
                            "leader",
                            org.name.clone(),
                            "Chief executive".to_owned(),
                            "Writes her own posts; the team drafts for approval".to_owned(),
                        ),
                        Role::Icb => (
                            "peer_organisation",
                            String::new(),
                            "Integrated care board".to_owned(),
                            String::new(),
                        ),
                        Role::PeerTrust => (
                            "peer_organisation",
                            String::new(),
                            "NHS trust".to_owned(),
                            String::new(),
                        ),
                        _ => (
                            "news_outlet",
                            String::new(),
                            "Local news".to_owned(),
                            String::new(),
                        ),
                    };
                    rows.push(Row {
                        name: account.name.clone(),
                        kind,
                        parent,
                        title,
                        notes,
                        handles: BTreeMap::new(),
                    });
                    rows.len() - 1
                }
            };
            if let Some(row) = rows.get_mut(position) {
                let list = row.handles.entry(network).or_default();
                if !list.contains(&handle) {
                    list.push(handle);
                }
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let networks = ["x", "mastodon", "bluesky"];
    let header = ["name", "kind", "parent", "title", "notes"]
        .into_iter()
        .chain(networks);
    let _ = writer.write_record(header);
    for row in &rows {
        let mut record = vec![
            row.name.clone(),
            row.kind.to_owned(),
            row.parent.clone(),
            row.title.clone(),
            row.notes.clone(),
        ];
        record
            .extend(networks.map(|n| row.handles.get(n).map(|h| h.join("; ")).unwrap_or_default()));
        // Writing to memory cannot fail.
        let _ = writer.write_record(&record);
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}
