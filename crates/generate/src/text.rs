//! Post texts composed from templates with slots, with entity spans recorded as they are written.

use std::fmt::Write as _;

use fastrand::Rng;

use crate::people::{Cast, FIRST, pick, pick_s};
use crate::{IncidentKind, Kind, Organisation, OutputFormat};

/// What a span of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    Tag,
    Mention(usize),
    Url,
}

/// A tagged span, as UTF-8 byte offsets into the text (`#`/`@` included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
}

/// A composed text with its entities.
#[derive(Debug, Clone, Default)]
pub(crate) struct Text {
    pub text: String,
    pub spans: Vec<Span>,
    pub lang: &'static str,
    pub nhs_number: bool,
    pub sensitive: bool,
}

impl Text {
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.lang = "en";
        self.nhs_number = false;
        self.sensitive = false;
    }
}

const SERVICES: &[&str] = &[
    "A&E",
    "maternity",
    "the cancer centre",
    "outpatients",
    "the pharmacy",
    "mental health",
    "the community nursing team",
    "fracture clinic",
    "radiology",
    "cardiology",
    "the eye clinic",
    "ENT",
    "dermatology",
    "the urgent treatment centre",
    "physio",
    "the breast clinic",
    "paediatrics",
    "orthopaedics",
    "the blood test clinic",
    "the stroke unit",
];
const RELATIVES: &[&str] = &[
    "my mum",
    "my dad",
    "my nan",
    "my grandad",
    "my husband",
    "my wife",
    "my partner",
    "my son",
    "my daughter",
    "my little boy",
    "my little girl",
    "my sister",
    "my brother",
    "my auntie",
    "my father in law",
    "my best mate",
    "my neighbour",
];
const FOOD: &[&str] = &[
    "shepherd's pie",
    "toast",
    "jacket potato",
    "soup",
    "custard",
    "cottage pie",
    "curry",
    "fish pie",
    "porridge",
    "sandwiches",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const POS: &[&str] = &[
    "💙",
    "🙏",
    "💙🙏",
    "❤️",
    "🥰",
    "👏",
    "🌈",
    ":)",
    ":-)",
    "x",
    "xx",
    "😊",
    "💙💙💙",
    "🌟",
];
const NEG: &[&str] = &[
    "😡", "🤬", "😤", "😢", ":(", ":-(", ":'(", "🙄", "😩", "!!", "!!!", "😠", "smh",
];
const ROLES: &[&str] = &[
    "nurse",
    "porter",
    "HCA",
    "doctor",
    "midwife",
    "receptionist",
    "paramedic",
    "physio",
    "consultant",
    "pharmacist",
    "cleaner",
    "ward clerk",
];
const TOPICS: &[&str] = &[
    "sepsis",
    "frailty",
    "falls prevention",
    "deprescribing",
    "delirium",
    "virtual wards",
    "discharge planning",
    "AKI",
    "pressure ulcer",
    "end of life care",
    "handover",
];
const PATHS: &[&str] = &[
    "visiting",
    "patients-and-visitors/parking",
    "contact-us/pals",
    "news",
    "careers",
    "our-services/maternity",
    "our-services/emergency-department",
    "charity",
];
const TAGS_GENERAL: &[&str] = &[
    "NHS",
    "Northgate",
    "AandE",
    "NHSHeroes",
    "ProudToBeNHS",
    "patientexperience",
    "NHSPressures",
];

pub(crate) const COMPLAINT: &[&str] = &[
    "Been sat in A&E at {hosp} for {hrs} hours with {rel}. Still not seen. This is {so} wrong {neg}",
    "{hrs} hours in A&E and counting. {Rel} is {age} and on a trolley in the corridor {neg}",
    "{Rel}'s operation cancelled AGAIN. {Nth} time since {month}. Nobody even rang to say why",
    "Rang {svc} {n} times today, on hold {mins} mins each time then cut off. {@trust} what is going on?",
    "Still waiting for a call back from {svc} at {hosp}. Was promised {day}. Nothing {neg}",
    "{Rel} was discharged from {ward} at {time} with no transport and no meds. Disgraceful",
    "£{money} for {hrs} hours parking at {hosp}. Paying to visit sick relatives is a disgrace {#parking}",
    "The receptionist at {svc} was so rude to {rel} today. Completely unacceptable {neg}",
    "Hospital food on {ward} is a joke. Cold {food} AGAIN {neg}",
    "Appointment letter arrived the day AFTER the appointment. You couldn't make it up {@trust}",
    "Waited {wks} weeks for {svc} and it's been cancelled by text. No new date {neg}",
    "Nobody on {ward} can tell us anything about {rel}. Ask the doctor, ask the nurse, round and round",
    "Discharged too early, back in A&E {n} days later with the same problem. {so} angry",
    "No parking spaces at {hosp} again, drove round for {mins} mins and missed my slot {neg}",
    "Pharmacy at {hosp} took {hrs} hours to do a discharge prescription. {Rel} just wanted to go home",
    "Why does it take {wks} weeks to get a mental health assessment in {town}? {Rel} needs help now",
    "{Rel}'s buzzer ignored for over an hour on {ward} last night. Not blaming the nurses, there were {n} of them for {beds} patients",
    "Told to come in for {time}, seen at {time2}. Whole day gone for a {mins} minute appointment",
    "{Rel} has been on {ward} {n} days and still no scan. Every day it's 'maybe tomorrow' {neg}",
    "Ambulance took {hrs} hours to come for {rel}, then {hrs2} hours queuing outside {hosp} {neg}",
    "Lost {rel}'s hearing aids AND glasses on {ward}. Nobody seems bothered",
    "Cancer referral was meant to be 2 weeks. It's been {wks}. Scared stiff tbh {neg}",
    "Complained to PALS {wks} weeks ago about {rel}'s care. Still no reply {@trust}",
    "Receptionist laughed when I asked how long the wait was. {so} rude",
    "Been trying to get through to {svc} since {time}. Line just rings and rings {neg}",
];

pub(crate) const COMPLIMENT: &[&str] = &[
    "Massive thank you to the team on {ward} at {hosp} for looking after {rel} {pos}",
    "Shout out to {name} in {svc}, absolute star {#NHSHeroes} {pos}",
    "The midwives at {hosp} were incredible. Our little one arrived at {time} weighing {lbs}lb {oz}oz {pos}",
    "Can't fault the care {rel} got in {svc}. Every single person was kind {pos}",
    "{name} the porter made my day, singing all the way to x-ray {pos}",
    "Seen within {mins} minutes at the minor injuries unit in {town}. Brilliant service {pos}",
    "The cancer team at {hosp} have been amazing with {rel}. Thank you {@trust} {pos}",
    "Staff on {ward} were so kind to {rel} in her last days. We will never forget it {pos}",
    "{Role} {name} on {ward}, you are a credit to the NHS {pos}",
    "Had my op at {hosp} on {day}, home already. Thank you to everyone in theatres and recovery {pos}",
    "{so} grateful to the A&E team at {hosp} last night. Busy as anything but still found time to smile {pos}",
    "Thank you {name} and the team in {svc} for explaining everything to {rel} so patiently {pos}",
    "Ten out of ten for {ward}. Clean, calm, and the {food} was actually nice! {pos}",
    "Whoever organised the volunteers at {hosp} main entrance, thank you. Lovely welcome {pos}",
    "After {wks} weeks of treatment {rel} rang the end of treatment bell today at {hosp} {pos} {#NHSHeroes}",
    "The paramedics who came out to {rel} at {time} were brilliant. Calm, kind, funny {pos}",
    "Physio team at {hosp} got me walking again. Forever thankful {pos}",
];

pub(crate) const QUESTION: &[&str] = &[
    "What are visiting hours on {ward} at {hosp}? Can't find it on the website",
    "{@trust} how do I make a complaint? Is there an email for PALS?",
    "Does anyone know if you have to pay for parking at {hosp} on a {day}?",
    "Got an appointment letter for {svc} but it doesn't say which hospital. Who do I ring?",
    "Is the minor injuries unit in {town} open at weekends?",
    "{@trust} can I bring {rel} with me to my scan at {hosp}?",
    "Anyone know how long the wait is at {hosp} A&E right now?",
    "How do I change my outpatient appointment? Phone line just rings out",
    "Where do I collect a prescription from the pharmacy at {hosp} after {time}?",
    "Are blood tests at {hosp} walk-in or do you need to book?",
    "{@trust} is there a bus from {town} to {hosp}? Don't drive",
    "Can you stay overnight with a child on the children's ward at {hosp}?",
    "Who do I speak to about {rel}'s discharge plan? Nobody has told us anything",
    "Is {svc} at {hosp} still running on {day}? Heard something about strikes",
    "Hi {@trust}, how do I get a copy of my medical records?",
    "Where's the best place to park for {svc} at {hosp}? First time going",
    "Do I need to bring my appointment letter to {svc} or just turn up?",
];

pub(crate) const MISINFO: &[&str] = &[
    "Heard {hosp} A&E is closing for good in {month} and they're keeping it quiet. SHARE!!",
    "The new vaccine has a tracking chip in it. My cousin's friend is a nurse and she won't have it",
    "Don't let them give your kids the jab, it changes your DNA. Do your own research {#wakeup}",
    "They're selling {hosp} off to a private company, it's all been decided already",
    "Maternity at {hosp} is shutting in {month}, all births moving out of {town}. Nobody told us",
    "Vitamin C cures it better than any vaccine, the NHS just won't tell you",
    "Hospital is full of empty beds, the waiting lists are made up to justify cuts",
    "Flu jab gives you flu. Every year. Fact. Not having it",
    "They're putting fluoride in the hospital water to keep patients sleepy. Ask questions",
    "Heard {hosp} is turning people away unless you've had the booster. Disgusting",
    "Nurses at {hosp} told to stop treating over 80s. Friend works there. Spread the word",
];

pub(crate) const SAFETY: &[&str] = &[
    "I can't keep going like this. Waited {wks} weeks for the crisis team and nobody calls back",
    "Honestly don't see the point anymore. Mental health services in {town} have given up on me",
    "If that consultant at {hosp} speaks to {rel} like that again he'll regret it",
    "Going down to {hosp} tomorrow and someone's going to get hurt if they don't listen",
    "Worried about my elderly neighbour, sent home from {hosp} alone, no carers, no food in the house",
    "Saw a little boy left on his own in the waiting room at {hosp} for hours, nobody knew who he was with",
    "Don't want to be here anymore. Everyone would be better off. Sorry",
    "My ex works on {ward} and keeps looking up my records. Who do I tell?",
];

pub(crate) const STAFF: &[&str] = &[
    "Great grand round today on {topic}. Who else is doing {topic} QI work? Would love to compare notes {#MedTwitter}",
    "Proud that our {svc} team at {hosp} cut waits by {pct}% this year. Read more: {url}",
    "Interesting one on nights: {age}yo, atypical chest pain, normal ECG, normal trop. Always trust your gut {#FOAMed}",
    "Any {role}s out there working on {topic}? Would love to connect",
    "Night shift done. {n} admissions, one cup of tea, zero wees. Love my team on {ward} though {pos}",
    "Rota gaps again this weekend. We need more staff, not more posters {#NHS}",
    "First week as an FY1 at {hosp}. Exhausted, learning loads, the nurses have saved me daily",
    "Handover at 8, ward round at 9, still haven't had a drink at {time}. Normal day on {ward}",
    "Reminder to colleagues: sepsis six within the hour. Saw a great catch by a student nurse today {pos}",
    "Lovely to see {name} from {svc} presenting our {topic} work at the regional network today",
    "Case for discussion: frail {age}yo on {n} medicines, falls twice a week. Where do you start deprescribing?",
    "Staff car park full by {time} again so I parked in {town} and walked. Patients first, but still",
    "Our {svc} nurses just won the team of the year award. So proud {pos} {#ProudToBeNHS}",
    "Sharing this excellent guide on {topic} for anyone on {ward} or similar: {url}",
    "Thirteen hour shift, {n} discharges, one very grateful family. This is why we do it {pos}",
    "Looking for a mentor in {topic} research. DMs open if you're happy to chat {#MedTwitter}",
];

pub(crate) const NEWS: &[&str] = &[
    "NEWS: {hosp} declares critical incident as A&E demand soars {url}",
    "Patients at {hosp} facing waits of up to {hrs} hours in A&E, new figures show {url}",
    "{trust} to open new {svc} unit in {town} next year {url}",
    "Inspectors rate maternity at {hosp} as 'requires improvement' {url}",
    "Parking charges to rise at {hosp} from {month}, trust confirms {url}",
    "{wkn} people waiting more than a year for treatment at {trust}, board papers reveal {url}",
    "Volunteers needed for {hosp} charity fun run in {town} this {day} {url}",
    "Hospital staff at {hosp} celebrate {n} years of the stroke unit {url}",
    "Ambulances queued outside {hosp} for up to {hrs} hours on {day} {url}",
    "New chief nurse appointed at {trust} {url}",
];

pub(crate) const ORG: &[&str] = &[
    "Our A&E at {hosp} is very busy today. Please use NHS 111 online or your local pharmacy for minor illnesses. Thank you for your patience",
    "Visiting on {ward} is 11am to 8pm, two visitors per bed. Full details: {url}",
    "Congratulations to {name} from {svc}, nominated in our staff awards this year {pos} {#ProudToBeNHS}",
    "We're recruiting! Join our {svc} team at {hosp}: {url}",
    "Free flu jabs for staff this week at {hosp}, drop in to the education centre {pos}",
    "Planned maintenance: the main car park at {hosp} will be partly closed on {day}. Please allow extra time",
    "Did you know you can manage your outpatient appointments online? {url}",
    "Thank you to everyone who came to our open day at {hosp} {pos}",
    "Our board meets in public on {day}. Papers and how to join: {url}",
];

pub(crate) const CEO: &[&str] = &[
    "Spent the morning with the team on {ward}. Humbled as always by their compassion {pos} {#ProudToBeNHS}",
    "Busy week across {trust}. Thank you to every one of our staff for going above and beyond",
    "Great to welcome our new {role}s to {hosp} today. You've joined a brilliant team",
    "Honest conversation at our staff forum today about {topic}. We will keep listening and act on it",
    "Walked the corridors at {hosp} at {time} with the night team. Quiet heroes, every one {pos}",
];

const OPENERS: &[&str] = &[
    "Ok so ",
    "Honestly, ",
    "Not gonna lie, ",
    "Tbh ",
    "So ",
    "Right, ",
    "Well. ",
    "PSA: ",
    "Just saying, ",
    "Update: ",
    "Morning all. ",
    "Evening. ",
    "Quick one: ",
    "Genuinely, ",
    "Can I just say ",
    "Day {n}: ",
    "Ugh. ",
    "Hmm. ",
    "FYI ",
    "Listen, ",
    "Wow. ",
    "Anyone else? ",
];
const SIGNOFFS: &[&str] = &[
    " ^CE",
    " ^JH",
    " ^SM",
    " ^AK",
    " ^RB",
    " ^LP",
    " Thanks, the comms team",
    " ^Comms team",
];
const COMPLAINT_TAILS: &[&str] = &[
    " Sort it out.",
    " Shocking.",
    " Not good enough.",
    " Who do I complain to?",
    " Staff doing their best but the system is broken.",
    " Every single time.",
    " Rant over.",
    " This is the {Nth} time.",
    " Since {time}!",
    " Absolute joke.",
    " {so} fed up.",
    " And they wonder why people complain.",
    " Not the nurses' fault.",
    " {@trust} sort it.",
    " Day {n} of this.",
    " On a {day}!",
    " Still waiting at {time}.",
    " Wouldn't treat a dog like this.",
    " Writing to my MP.",
    " Ridiculous.",
    " Can't believe it.",
    " In {town} of all places.",
];
const COMPLIMENT_TAILS: &[&str] = &[
    " Thank you!",
    " Couldn't ask for more.",
    " Proper heroes.",
    " You lot are amazing.",
    " Made a horrible {day} so much better.",
    " Will be baking you all a cake.",
    " Forever grateful.",
    " Special mention to {name}.",
    " Brilliant.",
    " Faith in the NHS restored.",
    " From all the family.",
    " {so} thankful.",
    " Thank you {name}!",
    " Stars, every one of you.",
];
const QUESTION_TAILS: &[&str] = &[
    " Thanks in advance.",
    " Anyone?",
    " Help!",
    " Cheers.",
    " Thanks x",
    " Asking for {rel}.",
    " Appointment is on {day}.",
    " Need to know by {time}.",
    " Website is useless.",
    " Ta.",
    " Coming from {town}.",
    " Any help appreciated.",
];
const GENERAL_TAILS: &[&str] = &[
    " Anyway.",
    " Just saying.",
    " (again)",
    " on {day}",
    " this morning",
    " tonight",
    " x",
    " lol",
    " haha",
    " Thoughts?",
    " 🤷",
    " #justsaying",
    " Love {town}.",
    " on my break",
    " at {time}",
    " Bless.",
    " True story.",
    " Happy {day}!",
];

const VOICE_TAILS: &[&str] = &[
    "",
    ".",
    ". Thank you all",
    ". More on {day}",
    ". Proud of you all",
    " this {day}",
    ". Please share",
    ". #TeamNHS",
    " across {n} sites",
    ". Updates to follow",
    ". Thank you {name} and team",
    " 👏",
];

pub(crate) const PEER: &[&str] = &[
    "Our emergency departments are very busy today. Please use NHS 111 online unless it's an emergency",
    "We're recruiting nurses and healthcare assistants across our hospitals. Apply now {pos}",
    "Winter vaccination clinics are open to all staff this week. Protect yourself and your patients",
    "Thank you to our {role}s who worked through the bank holiday {pos}",
    "Our board papers for {month} are now published on our website",
];

pub(crate) const REPLY_TO_COMPLAINT: &[&str] = &[
    "We're really sorry to hear this. Please contact our PALS team on 01632 960{nnn} so we can look into it for you",
    "Sorry about your experience. Could you DM us some details and we'll pass this straight to the {svc} team?",
    "We're sorry {rel_short} has had to wait. Our teams are working hard to see everyone as quickly as possible. Please DM us",
    "Thank you for raising this with us. We'd like to find out more, please email our patient experience team",
];
pub(crate) const REPLY_TO_COMPLIMENT: &[&str] = &[
    "Thank you so much for your kind words, we'll make sure the team sees this {pos}",
    "This is lovely to read, thank you! We'll pass it on to the team {pos}",
    "Thank you for taking the time to share this {pos}",
];
pub(crate) const REPLY_TO_QUESTION: &[&str] = &[
    "Hi, you'll find all the details here: {url}. Any problems, give us a shout",
    "Hi, our PALS team can help with this on 01632 960{nnn}, Monday to Friday 9am to 5pm",
    "Thanks for getting in touch. Please DM us and we'll find out for you",
];
pub(crate) const REPLY_PUBLIC: &[&str] = &[
    "Same happened to us {day} {neg}",
    "Hope {rel_short} is ok x",
    "This is exactly why the NHS needs proper funding",
    "Sending love {pos}",
    "Complain to PALS, it does work eventually",
    "Exactly the same on {ward} last {month}",
    "Not my experience at all, the staff were lovely",
    "Ring them and keep ringing, it's the only way",
    "Absolutely this {pos}",
    "So sorry you're going through this",
    "Shocking. Hope you get some answers",
    "Is this true?? {neg}",
];

pub(crate) const CHATTER: &[&str] = &[
    "Car park at {hosp} has the best view of the sunset, weirdly",
    "Anyone else doing the {town} 10k for the hospital charity on {day}? {pos}",
    "Queue at the coffee place in {hosp} is longer than A&E lol",
    "Love that the hospital radio at {hosp} still takes requests {pos}",
    "Got my flu jab at the pharmacy, took {n} mins. Easy",
    "Walked past {hosp} and the new building is nearly finished",
    "Bake sale for {ward} raised £{money}! {pos}",
    "Why is every hospital corridor {so} long",
    "Visiting {rel} and the vending machine ate my pound {neg}",
    "{hosp} charity shop has the best books",
    "Sitting in the {hosp} garden with a cuppa waiting for {rel}. Peaceful actually",
];

const CY: &[(&str, Kind)] = &[
    (
        "Diolch yn fawr i'r staff ar {ward} am ofalu am Mam {pos}",
        Kind::Compliment,
    ),
    (
        "Pam mae'r aros mor hir yn yr adran frys? {hrs} awr nawr {neg}",
        Kind::Complaint,
    ),
    (
        "Oes rhywun yn gwybod pryd mae'r oriau ymweld yn {hosp}?",
        Kind::Question,
    ),
    (
        "Staff gwych yn {hosp} heddiw. Diolch o galon {pos}",
        Kind::Compliment,
    ),
];
const PL: &[(&str, Kind)] = &[
    (
        "Czekam już {hrs} godzin na SOR w {hosp}. Nikt nic nie mówi {neg}",
        Kind::Complaint,
    ),
    (
        "Dziękuję pielęgniarkom z {ward} za opiekę nad mamą {pos}",
        Kind::Compliment,
    ),
    (
        "Czy ktoś wie, jakie są godziny odwiedzin w {hosp}?",
        Kind::Question,
    ),
    (
        "Parking w {hosp} kosztuje £{money}. Skandal",
        Kind::Complaint,
    ),
];
const UR: &[(&str, Kind)] = &[
    (
        "{hosp} میں {hrs} گھنٹے سے انتظار کر رہے ہیں {neg}",
        Kind::Complaint,
    ),
    (
        "وارڈ کے عملے کا بہت شکریہ، امی کا بہت خیال رکھا {pos}",
        Kind::Compliment,
    ),
    (
        "کیا کسی کو معلوم ہے کہ {hosp} میں ملاقات کے اوقات کیا ہیں؟",
        Kind::Question,
    ),
];

pub(crate) const fn incident_templates(kind: IncidentKind) -> &'static [(&'static str, Kind)] {
    match kind {
        IncidentKind::CyberAttack => &[
            (
                "Is {hosp} down? Heard it's a cyber attack, all appointments cancelled {neg}",
                Kind::Question,
            ),
            (
                "Cyber attack at {trust}?? My {svc} appointment just got cancelled",
                Kind::Complaint,
            ),
            (
                "Staff back on pen and paper after the cyber attack. Absolute chaos on {ward}",
                Kind::StaffDiscussion,
            ),
            (
                "NEWS: {trust} hit by suspected cyber attack, patients urged to attend unless contacted {url}",
                Kind::News,
            ),
            (
                "Blood results delayed for days because of this cyber attack. {Rel} stuck on {ward} {neg}",
                Kind::Complaint,
            ),
            (
                "Cyber attack means nobody can see {rel}'s notes. Scary {neg}",
                Kind::Complaint,
            ),
            (
                "Heard the cyber attack leaked everyone's records online. Check your bank accounts!!",
                Kind::Misinformation,
            ),
            (
                "{@trust} is there any update on the cyber attack? Should I still come in {day}?",
                Kind::Question,
            ),
        ],
        IncidentKind::AeClosureRumour => &[
            (
                "Is it true {hosp} A&E closing tonight?? Where are we meant to go {neg}",
                Kind::Question,
            ),
            (
                "Just heard {hosp} A&E closing for good, ambulances being sent out of {town}. SHARE",
                Kind::Misinformation,
            ),
            (
                "My friend works there and says A&E closing at {hosp} from {day}. They kept it quiet",
                Kind::Misinformation,
            ),
            (
                "If A&E closing at {hosp} is true that's people dying on the road to the next town {neg}",
                Kind::Complaint,
            ),
            (
                "{@trust} please confirm, is the A&E closing? Everyone in {town} is panicking",
                Kind::Question,
            ),
            (
                "Rumours of {hosp} A&E closing are all over Facebook. We're asking the trust {url}",
                Kind::News,
            ),
            (
                "A&E closing? I'm in it right now and it's heaving {neg}",
                Kind::Chatter,
            ),
        ],
        IncidentKind::Norovirus => &[
            (
                "{ward} closed with norovirus, can't visit {rel} {neg}",
                Kind::Complaint,
            ),
            (
                "Norovirus on {n} wards at {hosp}, stay away if you've got symptoms people!",
                Kind::Chatter,
            ),
            (
                "{@trust} is visiting stopped everywhere because of the norovirus?",
                Kind::Question,
            ),
            (
                "Norovirus outbreak closes wards at {hosp} {url}",
                Kind::News,
            ),
            (
                "Third norovirus outbreak this winter. Hand gel at the door isn't enough {neg}",
                Kind::Complaint,
            ),
            (
                "Norovirus is spread by the new air vents they put in, look it up",
                Kind::Misinformation,
            ),
        ],
        IncidentKind::PowerCut => &[
            (
                "Power cut at {hosp}?? Lights out in {svc} {neg}",
                Kind::Question,
            ),
            (
                "Generators running after a power cut, ops cancelled on {ward} {neg}",
                Kind::Complaint,
            ),
            (
                "Power cut at {hosp} and the lifts are out. {Rel} can't get to the scan {neg}",
                Kind::Complaint,
            ),
            (
                "Major power cut at {hosp}, patients asked to stay away unless urgent {url}",
                Kind::News,
            ),
            (
                "Working through a power cut on {ward}. Torches and teamwork {pos}",
                Kind::StaffDiscussion,
            ),
        ],
    }
}

pub(crate) const fn incident_statement(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::CyberAttack => {
            "We are responding to a cyber attack affecting some of our IT systems. Please attend appointments unless we contact you. Updates: {url}"
        }
        IncidentKind::AeClosureRumour => {
            "There is no truth in reports of our A&E closing. A&E at {hosp} is open as normal. Please only use it for emergencies"
        }
        IncidentKind::Norovirus => {
            "Due to norovirus, visiting on some wards at {hosp} is restricted. Please do not visit if you have had symptoms in the last 48 hours {url}"
        }
        IncidentKind::PowerCut => {
            "Following a power cut at {hosp}, our backup generators are running and patients are safe. Some appointments are being rescheduled {url}"
        }
    }
}

/// Composition context: what the slots draw on.
pub(crate) struct Ctx<'a> {
    pub org: &'a Organisation,
    pub cast: &'a Cast,
    pub format: OutputFormat,
}

impl Ctx<'_> {
    fn mention(&self, out: &mut Text, account: usize) {
        let start = out.text.len();
        out.text.push('@');
        if let Some(a) = self.cast.accounts.get(account) {
            match self.format {
                OutputFormat::Bluesky => out.text.push_str(&a.bsky_handle),
                _ => out.text.push_str(&a.username),
            }
        }
        out.spans.push(Span {
            start,
            end: out.text.len(),
            kind: SpanKind::Mention(account),
        });
    }

    fn hashtag(out: &mut Text, tag: &str) {
        let start = out.text.len();
        out.text.push('#');
        out.text.push_str(tag);
        out.spans.push(Span {
            start,
            end: out.text.len(),
            kind: SpanKind::Tag,
        });
    }

    fn url(&self, rng: &mut Rng, out: &mut Text) {
        let start = out.text.len();
        out.text.push_str(&self.org.website);
        out.text.push('/');
        out.text.push_str(pick(rng, PATHS));
        out.spans.push(Span {
            start,
            end: out.text.len(),
            kind: SpanKind::Url,
        });
    }

    /// Expands `tpl` into `out`, filling slots from the context.
    pub(crate) fn fill(
        &self,
        rng: &mut Rng,
        out: &mut Text,
        tpl: &str,
        incident: Option<IncidentKind>,
    ) {
        let mut rest = tpl;
        while let Some(open) = rest.find('{') {
            out.text.push_str(rest.get(..open).unwrap_or_default());
            let after = rest.get(open + 1..).unwrap_or_default();
            let Some(close) = after.find('}') else { break };
            let slot = after.get(..close).unwrap_or_default();
            self.slot(rng, out, slot, incident);
            rest = after.get(close + 1..).unwrap_or_default();
        }
        out.text.push_str(rest);
    }

    fn slot(&self, rng: &mut Rng, out: &mut Text, slot: &str, incident: Option<IncidentKind>) {
        let t = &mut out.text;
        match slot {
            "hosp" => t.push_str(pick_s(rng, &self.org.hospitals)),
            "ward" => t.push_str(pick_s(rng, &self.org.wards)),
            "town" => t.push_str(pick_s(rng, &self.org.towns)),
            "trust" => t.push_str(&self.org.short_name),
            "svc" => t.push_str(pick(rng, SERVICES)),
            "rel" => t.push_str(pick(rng, RELATIVES)),
            "rel_short" => t.push_str(if rng.bool() {
                "your relative"
            } else {
                "your family member"
            }),
            "Rel" => {
                let r = pick(rng, RELATIVES);
                let mut cs = r.chars();
                if let Some(c) = cs.next() {
                    t.extend(c.to_uppercase());
                    t.push_str(cs.as_str());
                }
            }
            "name" => t.push_str(pick(rng, FIRST)),
            "role" => t.push_str(pick(rng, ROLES)),
            "Role" => {
                let r = pick(
                    rng,
                    &[
                        "Nurse",
                        "Dr",
                        "Sister",
                        "Midwife",
                        "Porter",
                        "Healthcare assistant",
                    ],
                );
                t.push_str(r);
            }
            "topic" => t.push_str(pick(rng, TOPICS)),
            "food" => t.push_str(pick(rng, FOOD)),
            "month" => t.push_str(pick(rng, MONTHS)),
            "day" => t.push_str(pick(rng, DAYS)),
            "n" => push_num(t, rng.u32(2..9)),
            "Nth" => t.push_str(pick(rng, &["Second", "Third", "Fourth", "Fifth"])),
            "beds" => push_num(t, rng.u32(18..36)),
            "hrs" | "hrs2" => push_num(t, rng.u32(2..16)),
            "mins" => push_num(t, 5 * rng.u32(2..19)),
            "wks" => push_num(t, rng.u32(2..52)),
            "wkn" => push_num(t, 100 * rng.u32(3..60)),
            "age" => push_num(t, rng.u32(19..97)),
            "pct" => push_num(t, rng.u32(8..45)),
            "lbs" => push_num(t, rng.u32(5..10)),
            "oz" => push_num(t, rng.u32(0..16)),
            "nnn" => {
                let _ = write!(t, "{:03}", rng.u32(0..1000));
            }
            "money" => {
                let _ = write!(t, "{}.{:02}", rng.u32(2..25), 10 * rng.u32(0..10));
            }
            "time" | "time2" => {
                let h = rng.u32(1..13);
                let ampm = if rng.bool() { "am" } else { "pm" };
                if rng.u8(..3) == 0 {
                    let _ = write!(t, "{h}.{:02}{ampm}", 5 * rng.u32(1..12));
                } else {
                    let _ = write!(t, "{h}{ampm}");
                }
            }
            "so" => {
                t.push('s');
                for _ in 0..rng.usize(1..8) {
                    t.push('o');
                }
            }
            "pos" => t.push_str(pick(rng, POS)),
            "neg" => t.push_str(pick(rng, NEG)),
            "url" => self.url(rng, out),
            "@trust" => self.mention(out, self.cast.org),
            "kw" => {
                if let Some(k) = incident {
                    t.push_str(k.keyword());
                }
            }
            other => {
                if let Some(tag) = other.strip_prefix('#') {
                    Self::hashtag(out, tag);
                }
            }
        }
    }

    /// Appends personal data of the kind people overshare (synthetic numbers only).
    pub(crate) fn personal_data(&self, rng: &mut Rng, out: &mut Text) {
        let t = &mut out.text;
        match rng.u8(..4) {
            0 | 1 => {
                let n = nhs_number(rng);
                t.push_str(if rng.bool() {
                    " My NHS number is "
                } else {
                    " NHS no "
                });
                let s = n.to_string();
                if rng.bool() {
                    t.push_str(s.get(..3).unwrap_or_default());
                    t.push(' ');
                    t.push_str(s.get(3..6).unwrap_or_default());
                    t.push(' ');
                    t.push_str(s.get(6..).unwrap_or_default());
                } else {
                    t.push_str(&s);
                }
                out.nhs_number = true;
            }
            2 => {
                let _ = write!(t, " Please ring me on 07700 900{:03}", rng.u32(0..1000));
            }
            _ => {
                let _ = write!(
                    t,
                    " {} date of birth is {:02}/{:02}/{}",
                    if rng.bool() { "Her" } else { "His" },
                    rng.u32(1..29),
                    rng.u32(1..13),
                    rng.u32(1930..2020)
                );
            }
        }
    }

    /// Composes the body of a post of `kind`, in English or a community language.
    pub(crate) fn compose(&self, rng: &mut Rng, out: &mut Text, kind: Kind) {
        if matches!(kind, Kind::Complaint | Kind::Compliment | Kind::Question) && rng.u8(..40) == 0
        {
            let (table, lang): (&[(&str, Kind)], &'static str) = match rng.u8(..3) {
                0 => (CY, "cy"),
                1 => (PL, "pl"),
                _ => (UR, "ur"),
            };
            let options: Vec<&str> = table
                .iter()
                .filter(|(_, k)| *k == kind)
                .map(|(s, _)| *s)
                .collect();
            if !options.is_empty() {
                let tpl = pick(rng, &options);
                self.fill(rng, out, tpl, None);
                out.lang = lang;
                return;
            }
        }
        let table = match kind {
            Kind::Complaint => COMPLAINT,
            Kind::Compliment => COMPLIMENT,
            Kind::Question => QUESTION,
            Kind::Misinformation => MISINFO,
            Kind::Safety => SAFETY,
            Kind::StaffDiscussion => STAFF,
            Kind::News => NEWS,
            Kind::Organisation => ORG,
            Kind::Chatter => CHATTER,
        };
        if matches!(kind, Kind::Complaint | Kind::Question) && rng.u8(..5) == 0 {
            let opener = pick(
                rng,
                &[
                    "Honestly. ",
                    "Unbelievable. ",
                    "Not impressed. ",
                    "Sorry but ",
                    "Day {n} of this. ",
                    "Can someone explain? ",
                    "Right. ",
                    "{@trust} ",
                ],
            );
            self.fill(rng, out, opener, None);
        }
        let tpl = pick(rng, table);
        self.fill(rng, out, tpl, None);
        if matches!(kind, Kind::Complaint | Kind::Question) && rng.u8(..30) == 0 {
            self.personal_data(rng, out);
        }
        self.decorate(rng, out, kind);
        self.vary(rng, out, kind);
        if kind == Kind::Safety {
            out.sensitive = true;
        }
    }

    /// Writes an opener (sometimes) and returns where the body starts.
    pub(crate) fn opener(&self, rng: &mut Rng, out: &mut Text, kind: Kind) -> Option<usize> {
        let chance = match kind {
            Kind::Organisation | Kind::News | Kind::Safety => 0,
            _ => 5,
        };
        if rng.u8(..10) >= chance {
            return None;
        }
        let tpl = pick(rng, OPENERS);
        self.fill(rng, out, tpl, None);
        Some(out.text.len())
    }

    /// Lower-cases the first letter of the body after an opener, as people type.
    pub(crate) fn soften(out: &mut Text, body: Option<usize>) {
        let Some(i) = body else { return };
        let b = out.text.as_bytes();
        if b.get(i).is_some_and(u8::is_ascii_uppercase)
            && b.get(i + 1).is_some_and(u8::is_ascii_lowercase)
        {
            let lower = b
                .get(i)
                .map(u8::to_ascii_lowercase)
                .map(char::from)
                .unwrap_or('a');
            out.text
                .replace_range(i..i + 1, lower.encode_utf8(&mut [0; 4]));
        }
    }

    /// The variation layer: clauses, emoji, punctuation and case, so that texts rarely repeat.
    pub(crate) fn vary(&self, rng: &mut Rng, out: &mut Text, kind: Kind) {
        if kind == Kind::Organisation {
            if rng.u8(..3) == 0 {
                let sig = pick(rng, SIGNOFFS);
                out.text.push_str(sig);
            }
            return;
        }
        if matches!(kind, Kind::News | Kind::Safety) {
            return;
        }
        if rng.u8(..5) < 3 {
            let table = match kind {
                Kind::Complaint => COMPLAINT_TAILS,
                Kind::Compliment => COMPLIMENT_TAILS,
                Kind::Question => QUESTION_TAILS,
                _ => GENERAL_TAILS,
            };
            let tpl = pick(rng, table);
            let ends_word = out.text.chars().last().is_some_and(char::is_alphanumeric);
            if ends_word
                && tpl.chars().nth(1).is_some_and(char::is_uppercase)
                && out.spans.last().is_none_or(|s| s.end != out.text.len())
            {
                out.text.push('.');
            }
            self.fill(rng, out, tpl, None);
        }
        if rng.bool() {
            let tpl = pick(rng, GENERAL_TAILS);
            self.fill(rng, out, tpl, None);
        }
        let bare = out.text.chars().last().is_some_and(char::is_alphanumeric)
            && out.spans.last().is_none_or(|s| s.end != out.text.len());
        match if bare { rng.u8(..7) } else { 12 } {
            0 => out.text.push_str("!!"),
            1 => out.text.push('.'),
            2 => out.text.push_str("..."),
            3 => out.text.push('!'),
            4 => out.text.push_str("?!"),
            _ => {}
        }
        if rng.bool() {
            out.text.push(' ');
            let e = if matches!(kind, Kind::Complaint | Kind::Misinformation) {
                pick(rng, NEG)
            } else {
                pick(rng, POS)
            };
            out.text.push_str(e);
        }
        if rng.u8(..12) == 0
            && !out
                .spans
                .iter()
                .any(|s| matches!(s.kind, SpanKind::Mention(_)))
        {
            out.text.make_ascii_lowercase();
        }
    }

    /// Composes a post in a leader's (`ceo`) or a peer organisation's voice.
    pub(crate) fn compose_voice(&self, rng: &mut Rng, out: &mut Text, ceo: bool) {
        let tpl = pick(rng, if ceo { CEO } else { PEER });
        self.fill(rng, out, tpl, None);
        let tail = pick(rng, VOICE_TAILS);
        self.fill(rng, out, tail, None);
        self.decorate(rng, out, Kind::Organisation);
        if rng.bool() {
            out.text.push(' ');
            out.text.push_str(pick(rng, POS));
        }
    }

    /// Adds closers, hashtags and emphasis so that texts rarely repeat.
    pub(crate) fn decorate(&self, rng: &mut Rng, out: &mut Text, kind: Kind) {
        if !matches!(kind, Kind::Safety) && rng.u8(..4) == 0 {
            out.text
                .push_str(if rng.u8(..4) == 0 { "\n\n" } else { " " });
            let tag = match kind {
                Kind::Compliment => pick(rng, &["NHSHeroes", "ThankYouNHS", "NHS", "Northgate"]),
                Kind::Complaint => {
                    pick(rng, &["NHS", "AandE", "NHSCrisis", "Northgate", "parking"])
                }
                Kind::StaffDiscussion => pick(
                    rng,
                    &[
                        "NHS",
                        "MedTwitter",
                        "NurseTwitter",
                        "FOAMed",
                        "ProudToBeNHS",
                    ],
                ),
                _ => pick(rng, TAGS_GENERAL),
            };
            Self::hashtag(out, tag);
        }
    }

    /// A reply body suited to the parent post's kind; `from_org` for the organisation's voice.
    pub(crate) fn reply(
        &self,
        rng: &mut Rng,
        out: &mut Text,
        parent: Kind,
        from_org: bool,
    ) -> Kind {
        if from_org {
            let table = match parent {
                Kind::Compliment => REPLY_TO_COMPLIMENT,
                Kind::Question | Kind::Misinformation => REPLY_TO_QUESTION,
                _ => REPLY_TO_COMPLAINT,
            };
            let tpl = pick(rng, table);
            if rng.u8(..3) == 0 {
                let hi = pick(rng, &["Hi {name}, ", "Hi there, ", "Hello, ", "Hi, "]);
                self.fill(rng, out, hi, None);
                let body = Some(out.text.len());
                self.fill(rng, out, tpl, None);
                Self::soften(out, body);
            } else {
                self.fill(rng, out, tpl, None);
            }
            self.vary(rng, out, Kind::Organisation);
            Kind::Organisation
        } else {
            let kind = match rng.u8(..10) {
                0..=2 => Kind::Complaint,
                3..=4 => Kind::Compliment,
                _ => Kind::Chatter,
            };
            if rng.u8(..3) == 0 {
                self.compose(rng, out, kind);
                kind
            } else {
                let body = self.opener(rng, out, Kind::Chatter);
                let tpl = pick(rng, REPLY_PUBLIC);
                self.fill(rng, out, tpl, None);
                Self::soften(out, body);
                self.vary(rng, out, Kind::Chatter);
                Kind::Chatter
            }
        }
    }
}

fn push_num(t: &mut String, n: u32) {
    let _ = write!(t, "{n}");
}

/// A synthetic NHS number: the `999` test range, with a valid Modulus 11 check digit.
pub(crate) fn nhs_number(rng: &mut Rng) -> u64 {
    loop {
        let body = 999_000_000 + rng.u64(0..1_000_000);
        if let Some(check) = modulus11_check(body) {
            return body * 10 + check;
        }
    }
}

/// The Modulus 11 check digit of a nine-digit NHS number body, or `None` when none exists.
pub(crate) fn modulus11_check(body: u64) -> Option<u64> {
    let mut sum = 0;
    let mut rest = body;
    for weight in 2..=10 {
        sum += (rest % 10) * weight;
        rest /= 10;
    }
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}
