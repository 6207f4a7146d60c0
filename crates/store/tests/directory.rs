//! The directory of organisations, people and accounts in a real SQLite file: entries and their
//! handles kept, one account per entry, ODS codes unique, imports all or nothing, every change
//! audited in the same transaction.

#[cfg(test)]
mod tests {
    use engage::NewAuditEntry;
    use jiff::Timestamp;
    use model::{
        Author, Network,
        analysis::AuthorKind,
        directory::{DirectoryEntry, EntryKind, Handle},
    };
    use store::{
        DirectoryConflict, DirectoryStore, EngageStore, ImportedEntry, SqliteStore, Store,
    };

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
        (dir, store)
    }

    fn audit(action: &str) -> Vec<NewAuditEntry> {
        vec![NewAuditEntry::new(
            Timestamp::now(),
            "olu",
            action,
            "directory",
            "test change",
        )]
    }

    fn trust() -> DirectoryEntry {
        let mut bluesky = Handle::new(Network::Bluesky, "northgatevalley.nhs.uk");
        bluesky.account_id = Some("did:plc:trust".to_owned());
        DirectoryEntry {
            ods_code: Some("RNV".to_owned()),
            handles: vec![
                Handle::new(Network::X, "@NorthgateNHS"),
                Handle::new(Network::Mastodon, "NorthgateNHS@social.northgate.example"),
                bluesky,
            ],
            ..DirectoryEntry::new(
                "Northgate Valley NHS Foundation Trust",
                EntryKind::OwnOrganisation,
            )
        }
    }

    fn author(id: &str, handle: &str) -> Author {
        Author {
            id: id.to_owned(),
            handle: handle.to_owned(),
            ..Author::default()
        }
    }

    /// The audit actions stored, oldest first.
    fn actions(store: &SqliteStore) -> Vec<(String, String)> {
        store
            .audit_entries(0, 100)
            .unwrap()
            .into_iter()
            .map(|e| (e.entry.action, e.entry.subject))
            .collect()
    }

    #[test]
    fn entries_and_their_handles_are_kept_and_found_by_the_analysis_lookup() {
        let (dir, store) = open();
        let id = store
            .save_directory_entry(&trust(), &audit("directory.add"))
            .unwrap()
            .unwrap();
        let ceo = DirectoryEntry {
            parent: Some(id),
            title: Some("Chief executive".to_owned()),
            notes: Some("Posts herself at weekends".to_owned()),
            handles: vec![Handle::new(Network::X, "CathEllwoodCEO")],
            ..DirectoryEntry::new("Dr Catherine Ellwood", EntryKind::Leader)
        };
        let ceo_id = store
            .save_directory_entry(&ceo, &audit("directory.add"))
            .unwrap()
            .unwrap();
        drop(store);

        // Read back from the file by a new process's store.
        let store = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
        let directory = store.directory().unwrap();
        assert_eq!(directory.entries().len(), 2);
        let first = &directory.entries()[0];
        assert_eq!(
            first.kind,
            EntryKind::OwnOrganisation,
            "kinds in display order"
        );
        assert_eq!(first.handles.len(), 3);
        assert_eq!(first.handles[0].handle, "NorthgateNHS", "the @ is not kept");
        let found = directory
            .find(Network::X, &author("1", "northgatenhs"))
            .unwrap();
        assert_eq!(found.id, id);
        assert_eq!(found.kind.author_kind(), AuthorKind::OwnOrganisation);
        let by_did = directory
            .find(
                Network::Bluesky,
                &author("did:plc:trust", "renamed.example"),
            )
            .unwrap();
        assert_eq!(by_did.id, id);
        let leader = store.directory_entry(ceo_id).unwrap().unwrap();
        assert_eq!(leader.parent, Some(id));
        assert_eq!(leader.notes.as_deref(), Some("Posts herself at weekends"));
        assert_eq!(
            actions(&store),
            vec![
                ("directory.add".to_owned(), format!("directory:{id}")),
                ("directory.add".to_owned(), format!("directory:{ceo_id}")),
            ]
        );
    }

    #[test]
    fn an_account_belongs_to_one_entry_and_a_refused_change_writes_nothing() {
        let (_dir, store) = open();
        let id = store
            .save_directory_entry(&trust(), &audit("directory.add"))
            .unwrap()
            .unwrap();
        let copy = DirectoryEntry {
            ods_code: Some("RNV".to_owned()),
            handles: vec![
                Handle::new(Network::X, "NORTHGATENHS"),
                Handle::new(Network::X, "SomeoneElse"),
            ],
            ..DirectoryEntry::new("Impostor", EntryKind::PeerOrganisation)
        };
        let refused = store
            .save_directory_entry(&copy, &audit("directory.add"))
            .unwrap()
            .unwrap_err();
        match &refused {
            DirectoryConflict::OdsCodeTaken {
                holder,
                holder_name,
                ..
            } => {
                assert_eq!(*holder, id);
                assert_eq!(holder_name, "Northgate Valley NHS Foundation Trust");
            }
            other => panic!("expected the ODS code conflict first, got {other:?}"),
        }
        let without_code = DirectoryEntry {
            ods_code: None,
            ..copy
        };
        let refused = store
            .save_directory_entry(&without_code, &audit("directory.add"))
            .unwrap()
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("NORTHGATENHS on X already belongs to Northgate Valley"),
            "{refused}"
        );
        assert_eq!(store.directory().unwrap().entries().len(), 1);
        assert_eq!(
            actions(&store).len(),
            1,
            "no audit entry for a refused change"
        );

        // Editing an entry may keep, respell and drop its own handles.
        let mut edited = store.directory_entry(id).unwrap().unwrap();
        edited.handles = vec![Handle::new(Network::X, "NORTHGATENHS")];
        edited.name = "Northgate Valley NHS FT".to_owned();
        assert_eq!(
            store
                .save_directory_entry(&edited, &audit("directory.edit"))
                .unwrap(),
            Ok(id)
        );
        let stored = store.directory_entry(id).unwrap().unwrap();
        assert_eq!(
            stored.handles,
            vec![Handle::new(Network::X, "NORTHGATENHS")]
        );
        assert_eq!(stored.name, "Northgate Valley NHS FT");

        // Saving an entry that was removed meanwhile is refused, not re-created.
        assert!(
            store
                .remove_directory_entry(id, &audit("directory.remove"))
                .unwrap()
        );
        assert_eq!(
            store
                .save_directory_entry(&edited, &audit("directory.edit"))
                .unwrap(),
            Err(DirectoryConflict::NoSuchEntry(id))
        );
        assert!(
            !store
                .remove_directory_entry(id, &audit("directory.remove"))
                .unwrap()
        );
        assert!(store.directory().unwrap().is_empty());
    }

    #[test]
    fn removing_an_entry_removes_its_handles_and_frees_its_children() {
        let (_dir, store) = open();
        let id = store
            .save_directory_entry(&trust(), &audit("directory.add"))
            .unwrap()
            .unwrap();
        let ward = DirectoryEntry {
            parent: Some(id),
            handles: vec![Handle::new(Network::X, "HeronBirthCentre")],
            ..DirectoryEntry::new("Heron Birth Centre", EntryKind::OwnService)
        };
        let ward = store
            .save_directory_entry(&ward, &audit("directory.add"))
            .unwrap()
            .unwrap();
        store
            .remove_directory_entry(id, &audit("directory.remove"))
            .unwrap();
        let directory = store.directory().unwrap();
        assert_eq!(directory.get(ward).unwrap().parent, None);
        assert!(directory.find_handle(Network::X, "NorthgateNHS").is_none());
        // The trust's handle is free again.
        let again = store
            .save_directory_entry(&trust(), &audit("directory.add"))
            .unwrap();
        assert!(again.is_ok(), "{again:?}");
    }

    #[test]
    fn an_import_is_all_or_nothing_and_names_every_conflicting_row() {
        let (_dir, store) = open();
        let id = store
            .save_directory_entry(&trust(), &audit("directory.add"))
            .unwrap()
            .unwrap();
        let peer = |name: &str, code: &str, handle: &str| ImportedEntry {
            entry: DirectoryEntry {
                ods_code: Some(code.to_owned()),
                handles: vec![Handle::new(Network::X, handle)],
                ..DirectoryEntry::new(name, EntryKind::PeerOrganisation)
            },
            parent_row: None,
        };
        let rows = vec![
            peer(
                "Kelmsford and District Hospitals NHS Trust",
                "RKD",
                "KelmsfordHosp",
            ),
            peer("Copy of Kelmsford", "RKE", "kelmsfordhosp"),
            peer("Holds our handle", "RKF", "NorthgateNHS"),
            peer("Holds our code", "RNV", "Other"),
        ];
        let refused = store
            .import_directory(&rows, &audit("directory.import"))
            .unwrap()
            .unwrap_err();
        let rows_refused: Vec<usize> = refused.iter().map(|c| c.row).collect();
        assert_eq!(rows_refused, vec![1, 2, 3], "{refused:?}");
        assert!(
            refused[0]
                .conflict
                .to_string()
                .contains("already belongs to Kelmsford and District"),
            "{refused:?}"
        );
        assert_eq!(store.directory().unwrap().entries().len(), 1);
        assert_eq!(actions(&store).len(), 1);

        // A good import adds, replaces (by id), and links parents within the batch.
        let mut ours = store.directory_entry(id).unwrap().unwrap();
        ours.handles
            .push(Handle::new(Network::Facebook, "NorthgateValleyNHS"));
        let rows = vec![
            ImportedEntry {
                entry: DirectoryEntry {
                    handles: vec![Handle::new(Network::X, "NorthgateICU")],
                    ..DirectoryEntry::new("ITU", EntryKind::OwnService)
                },
                parent_row: Some(1),
            },
            ImportedEntry {
                entry: ours,
                parent_row: None,
            },
            peer(
                "Kelmsford and District Hospitals NHS Trust",
                "RKD",
                "KelmsfordHosp",
            ),
        ];
        let summary = store
            .import_directory(&rows, &audit("directory.import"))
            .unwrap()
            .unwrap();
        assert_eq!((summary.added, summary.updated, summary.handles), (2, 1, 6));
        let directory = store.directory().unwrap();
        assert_eq!(directory.entries().len(), 3);
        let itu = directory.find_handle(Network::X, "northgateicu").unwrap();
        assert_eq!(itu.parent, Some(id));
        assert_eq!(directory.get(id).unwrap().handles.len(), 4);
        assert_eq!(
            actions(&store).last().map(|(a, _)| a.as_str()),
            Some("directory.import")
        );
    }
}
