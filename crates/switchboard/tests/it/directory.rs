//! `switchboard directory` end to end, and the directory the demo ships for its trust.

use std::{collections::HashMap, fs, path::Path};

use model::{Network, directory::EntryKind};
use store::{SearchQuery, SqliteStore, Store};

use crate::{run, samples, stderr, stdout, switchboard};

fn directory(dir: &Path, args: &[&str]) -> std::process::Output {
    run(switchboard(dir).arg("directory").args(args))
}

const GOOD: &str = "name,kind,ods_code,parent,title,notes,x,mastodon,bluesky\n\
    Northgate Valley NHS Foundation Trust,own_organisation,,,,,NorthgateNHS,NorthgateNHS@social.northgate.example,northgatevalley.nhs.uk (did:plc:trust)\n\
    Dr Catherine Ellwood,leader,,Northgate Valley NHS Foundation Trust,Chief executive,\"Writes her own posts, mostly\",https://x.com/CathEllwoodCEO,,\n\
    Northgate Gazette,news_outlet,,,,,@NorthgateGazette;GazetteHealth,,\n";

#[test]
fn a_directory_file_with_mistakes_names_each_line_and_field_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    fs::write(
        &file,
        "name,kind,ods_code,parent,x\n\
         Northgate Valley NHS Foundation Trust,own_organisation,,,NorthgateNHS\n\
         Dr Catherine Ellwood,chief,,,CathEllwoodCEO\n\
         Night team,staff,R0A,Nobody,night team\n",
    )
    .unwrap();
    let output = directory(
        dir.path(),
        &["import", file.to_str().unwrap(), "--by", "olu"],
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    for expected in [
        "people.csv was not imported, it has 4 mistake(s)",
        "people.csv: line 3, kind: unknown directory kind `chief`",
        "people.csv: line 4, x: `night team` has a space in it",
        "people.csv: line 4, parent: no entry named `Nobody`",
        "people.csv: line 4, ods_code: only organisations have ODS codes",
    ] {
        assert!(
            message.contains(expected),
            "`{expected}` not in:\n{message}"
        );
    }
    let listed = stdout(&directory(dir.path(), &["list"]));
    assert!(listed.contains("The directory is empty"), "{listed}");

    // A handle claimed by an entry already stored is refused with that entry's name.
    fs::write(&file, GOOD).unwrap();
    let output = directory(
        dir.path(),
        &["import", file.to_str().unwrap(), "--by", "olu"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    fs::write(
        &file,
        "name,kind,x\nKelmsford Echo,news_outlet,northgatenhs\n",
    )
    .unwrap();
    let output = directory(
        dir.path(),
        &["import", file.to_str().unwrap(), "--by", "olu"],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "line 2: northgatenhs on X already belongs to Northgate Valley NHS Foundation Trust"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_exported_directory_imports_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("directory.csv");
    fs::write(&file, GOOD).unwrap();
    let output = directory(
        dir.path(),
        &["import", file.to_str().unwrap(), "--by", "olu"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("3 added, 0 updated, 6 handles"),
        "{}",
        stdout(&output)
    );
    let exported = stdout(&directory(dir.path(), &["export"]));
    assert!(
        exported.contains("Dr Catherine Ellwood,leader,,Northgate Valley NHS Foundation Trust,Chief executive,\"Writes her own posts, mostly\",CathEllwoodCEO,"),
        "{exported}"
    );
    // Importing the export again changes nothing; into a fresh database it gives the same file.
    fs::write(&file, &exported).unwrap();
    let output = directory(
        dir.path(),
        &["import", file.to_str().unwrap(), "--by", "olu"],
    );
    assert!(
        stdout(&output).contains("0 added, 3 updated"),
        "{}",
        stdout(&output)
    );
    assert_eq!(stdout(&directory(dir.path(), &["export"])), exported);
    let other = tempfile::tempdir().unwrap();
    let output = directory(
        other.path(),
        &["import", file.to_str().unwrap(), "--by", "olu"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&directory(other.path(), &["export"])), exported);
    // The imports are in the audit log under the person who ran them.
    let store = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
    let audit = store::EngageStore::audit_entries(&store, 0, 10).unwrap();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|e| e.entry.actor == "olu" && e.entry.action == "directory.import")
    );
}

#[test]
fn peer_organisations_are_added_by_ods_code_from_the_shared_lists() {
    let dir = tempfile::tempdir().unwrap();
    let data = samples().join("..");
    let data = data.to_str().unwrap();
    let output = directory(
        dir.path(),
        &["ods", "r0a", "QYG", "00L", "--by", "olu", "--data", data],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let listed = stdout(&directory(dir.path(), &["list"]));
    for expected in [
        "Manchester University NHS Foundation Trust (Peer NHS organisation) [R0A]",
        "NHS Cheshire and Merseyside Integrated Care Board (Peer NHS organisation) [QYG]",
        "NHS North East and North Cumbria ICB - 00L (Peer NHS organisation) [00L]",
    ] {
        assert!(listed.contains(expected), "`{expected}` not in:\n{listed}");
    }
    // Again: nothing added twice. An unknown or closed code adds nothing at all.
    let output = directory(dir.path(), &["ods", "R0A", "--by", "olu", "--data", data]);
    assert!(
        stdout(&output).contains("R0A: already in the directory as Manchester University"),
        "{}",
        stdout(&output)
    );
    let output = directory(
        dir.path(),
        &["ods", "RJZ", "XXXX", "00C", "--by", "olu", "--data", data],
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("XXXX: not in the ODS lists"), "{message}");
    assert!(
        message.contains("00C: NHS Darlington CCG closed on 2020-03-31"),
        "{message}"
    );
    let store = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
    assert_eq!(store.directory().unwrap().entries().len(), 3);
}

#[test]
fn the_demo_directory_names_every_post_of_the_trust_its_leader_peers_and_press() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(switchboard(dir.path()).args(["demo", "--no-serve", "--posts", "1500"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Directory of the trust's own, leader, peer and press accounts"),
        "{}",
        stdout(&output)
    );
    // The accounts, from the generator's own record of its cast (not from the directory): the
    // demo writes X, Mastodon and Bluesky traffic with seeds 2024, 2025 and 2026.
    let mut expected: HashMap<(Network, String), EntryKind> = HashMap::new();
    for (network, format, seed) in [
        (Network::X, generate::OutputFormat::X, 2024),
        (Network::Mastodon, generate::OutputFormat::Mastodon, 2025),
        (Network::Bluesky, generate::OutputFormat::Bluesky, 2026),
    ] {
        let config = generate::Config::new(1500, format, seed, jiff::Timestamp::now());
        for account in generate::Generator::new(config).accounts() {
            let kind = match account.role {
                generate::Role::Organisation => EntryKind::OwnOrganisation,
                generate::Role::ChiefExecutive => EntryKind::Leader,
                generate::Role::PeerTrust | generate::Role::Icb => EntryKind::PeerOrganisation,
                generate::Role::Press => EntryKind::NewsOutlet,
                _ => continue,
            };
            let identity = match network {
                Network::Bluesky => account.did.clone(),
                _ => account.username.to_lowercase(),
            };
            expected.insert((network, identity), kind);
        }
    }
    let store = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
    let directory = store.directory().unwrap();
    let posts = store
        .search(&SearchQuery {
            limit: 100_000,
            ..SearchQuery::default()
        })
        .unwrap();
    let mut found: HashMap<Network, usize> = HashMap::new();
    for stored in &posts {
        let author = &stored.post.author;
        let network = stored.post.network;
        let identity = match network {
            Network::Bluesky => author.id.clone(),
            _ => author
                .handle
                .split('@')
                .next()
                .unwrap_or_default()
                .to_lowercase(),
        };
        let Some(kind) = expected.get(&(network, identity)) else {
            assert!(
                directory.find(network, author).is_none(),
                "@{} is not one of the trust's, leader's, peers' or press accounts",
                author.handle
            );
            continue;
        };
        let entry = directory
            .find(network, author)
            .unwrap_or_else(|| panic!("@{} on {network} is not in the directory", author.handle));
        assert_eq!(entry.kind, *kind, "@{}", author.handle);
        *found.entry(network).or_default() += 1;
    }
    for network in [Network::X, Network::Mastodon, Network::Bluesky] {
        assert!(
            found.get(&network).copied().unwrap_or(0) > 10,
            "few posts by the named accounts on {network}: {found:?}"
        );
    }
}
