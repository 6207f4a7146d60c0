//! The misreadings issue 13 found on the demo fortnight, each guarded: who is speaking is read
//! before the intents. (See: `issues show 13`.) The texts are the ones the issue quotes; no
//! rule was chosen on them (the author kinds follow the directory and the way real accounts
//! present themselves, see `analyse::author`).

#[cfg(test)]
mod tests {
    use analyse::Analyser;
    use model::analysis::{AuthorKind, AuthorKindSource, IntentKind, SentimentLabel};
    use model::directory::{Directory, DirectoryEntry, EntryKind, Handle};
    use model::{Author, Network, Post};

    fn author(handle: &str, name: &str, bio: &str, followers: u64) -> Author {
        Author {
            id: format!("id-{handle}"),
            handle: handle.into(),
            display_name: Some(name.into()),
            bio: Some(bio.into()),
            followers: Some(followers),
            ..Author::default()
        }
    }

    fn post(author: Author, text: &str) -> Post {
        Post::new(Network::X, "1", author, text, jiff::Timestamp::UNIX_EPOCH)
    }

    fn directory() -> Directory {
        let mut own = DirectoryEntry::new(
            "Northgate Valley NHS Foundation Trust",
            EntryKind::OwnOrganisation,
        );
        own.id = 1;
        own.handles.push(Handle::new(Network::X, "NorthgateNHS"));
        let mut ceo = DirectoryEntry::new("Dr Catherine Ellwood", EntryKind::Leader);
        ceo.id = 2;
        ceo.handles.push(Handle::new(Network::X, "CathEllwoodCEO"));
        Directory::new(vec![own, ceo])
    }

    #[test]
    fn r13_our_own_update_is_not_a_complaint() {
        let a = Analyser::new().unwrap();
        let p = post(
            author(
                "NorthgateNHS",
                "Northgate Valley NHS Foundation Trust",
                "Official account. In an emergency call 999",
                30_000,
            ),
            "Following a power cut at Northgate General, our backup generators are running and \
             patients are safe. Some appointments are being rescheduled",
        );
        let r = a.analyse_with(&p, &directory());
        assert_eq!(r.author.kind, AuthorKind::OwnOrganisation);
        assert_eq!(r.author.source, AuthorKindSource::Directory);
        assert_eq!(r.author.entry, Some(1));
        assert!(!r.has_intent(IntentKind::Complaint), "{:?}", r.intents);
        assert!(!r.has_intent(IntentKind::Compliment), "{:?}", r.intents);
    }

    #[test]
    fn r13_a_peer_trusts_busy_day_is_not_a_complaint() {
        let a = Analyser::new().unwrap();
        let p = post(
            author(
                "KelmsfordHosp",
                "Kelmsford and District Hospitals NHS Trust",
                "Official account of Kelmsford and District Hospitals NHS Trust",
                12_000,
            ),
            "Our A&E at Kelmsford General is very busy today. Please use NHS 111 online or your \
             local pharmacy for minor illnesses. Thank you for your patience",
        );
        let r = a.analyse_with(&p, &directory());
        assert_eq!(r.author.kind, AuthorKind::PeerOrganisation);
        assert_eq!(r.author.source, AuthorKindSource::Inferred);
        assert!(!r.has_intent(IntentKind::Complaint), "{:?}", r.intents);
    }

    #[test]
    fn r13_a_clinicians_case_for_discussion_is_not_a_complaint() {
        let a = Analyser::new().unwrap();
        let p = post(
            author(
                "DrPriyaS",
                "Dr Priya Shah",
                "GP partner. Views my own",
                2_000,
            ),
            "Case for discussion: frail 56yo on 9 medicines, falls twice a week. Where do you \
             start deprescribing?",
        );
        let r = a.analyse_with(&p, &directory());
        assert_eq!(r.author.kind, AuthorKind::Clinician);
        assert!(!r.has_intent(IntentKind::Complaint), "{:?}", r.intents);
    }

    #[test]
    fn r13_a_staff_story_is_not_a_complaint() {
        let a = Analyser::new().unwrap();
        let p = post(
            author(
                "porter_pete",
                "Pete Riley",
                "Porter at Northgate General. Proud to be NHS",
                300,
            ),
            "Working through a power cut on ITU. Torches and teamwork 💪",
        );
        let r = a.analyse_with(&p, &directory());
        assert_eq!(r.author.kind, AuthorKind::Staff);
        assert!(!r.has_intent(IntentKind::Complaint), "{:?}", r.intents);
    }

    #[test]
    fn r13_a_question_about_a_service_is_a_question() {
        let a = Analyser::new().unwrap();
        let p = post(
            author("sarah_b", "Sarah", "Mum of two", 150),
            "Is the minor injuries unit open at weekends?",
        );
        let r = a.analyse_with(&p, &directory());
        assert_eq!(r.author.kind, AuthorKind::Public);
        assert!(r.has_intent(IntentKind::Question), "{:?}", r.intents);
        assert!(!r.has_intent(IntentKind::Complaint), "{:?}", r.intents);
    }

    #[test]
    fn r13_the_vending_machine_is_not_praise_and_a_flu_jab_is_not_misinformation() {
        let a = Analyser::new().unwrap();
        let r = a.analyse(&post(
            author("danny", "Danny", "", 80),
            "Visiting mum and the vending machine ate my pound 🙄",
        ));
        assert!(!r.has_intent(IntentKind::Compliment), "{:?}", r.intents);
        let r = a.analyse(&post(
            author("jo", "Jo", "", 80),
            "Got my flu jab at the pharmacy, took 5 mins. Easy!!",
        ));
        assert!(!r.has_intent(IntentKind::Misinformation), "{:?}", r.intents);
    }

    #[test]
    fn r13_the_power_cut_with_happy_monday_reads_negative() {
        let a = Analyser::new().unwrap();
        let r = a.analyse(&post(
            author("kirsty", "Kirsty", "", 200),
            "Power cut at Northgate General and the lifts are out. Dad can't get to the scan. \
             Happy Monday!",
        ));
        assert_ne!(
            r.sentiment.label,
            SentimentLabel::Positive,
            "{:?}",
            r.sentiment
        );
        assert!(!r.has_intent(IntentKind::Compliment), "{:?}", r.intents);
    }

    #[test]
    fn r13_self_harm_outranks_a_complaint_with_an_nhs_number() {
        let a = Analyser::new().unwrap();
        let harm = a.analyse(&post(
            author("anon1", "A", "", 100),
            "I can't go on, I want to end my life",
        ));
        let number = a.analyse(&post(
            author("anon2", "B", "", 100),
            "Waited 9 hours in A&E and nobody called back. Absolutely disgraceful. My NHS number \
             is 943 476 5919",
        ));
        assert!(
            harm.priority.score > number.priority.score,
            "{:?} against {:?}",
            harm.priority,
            number.priority
        );
    }

    #[test]
    fn r13_a_mixed_post_carries_both_intents_with_their_spans() {
        let a = Analyser::new().unwrap();
        let text = "The nurses on Ward 7 were lovely and kind. But the wait in A&E was \
                    disgraceful, nobody called back for hours.";
        let r = a.analyse(&post(author("pat", "Pat", "", 100), text));
        assert!(r.has_intent(IntentKind::Complaint), "{:?}", r.intents);
        assert!(r.has_intent(IntentKind::Compliment), "{:?}", r.intents);
        let span_of = |kind: IntentKind| {
            let intent = r.intents.iter().find(|i| i.kind == kind).unwrap();
            intent
                .spans
                .iter()
                .map(|s| &text[s.start..s.end])
                .collect::<Vec<_>>()
        };
        assert_eq!(
            span_of(IntentKind::Compliment),
            vec!["The nurses on Ward 7 were lovely and kind."]
        );
        assert!(
            span_of(IntentKind::Complaint)
                .iter()
                .any(|s| s.contains("disgraceful")),
            "{:?}",
            span_of(IntentKind::Complaint)
        );
    }
}
