//! Analyses made ready for the store away from the writer: turning an [`Analysis`] into its
//! stored columns and compressed JSON costs more than the SQL that writes it, so importers do
//! it on the threads that analyse and leave the one writer thread only the SQL.

use model::Network;

use crate::{PostAnalysis, StoreError};

/// An analysis with every stored column worked out, for [`crate::Store::apply_analysed`] and
/// [`crate::Store::save_prepared_analyses`]. Built by [`PreparedAnalysis::new`] on any thread.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedAnalysis {
    pub(crate) network: Network,
    pub(crate) id: String,
    pub(crate) version_at: i64,
    pub(crate) engine: String,
    pub(crate) sentiment: f64,
    pub(crate) sentiment_label: &'static str,
    pub(crate) priority: i64,
    pub(crate) intents: String,
    pub(crate) themes: String,
    pub(crate) language: String,
    pub(crate) professional: Option<String>,
    pub(crate) personal_data: i64,
    pub(crate) payload: rusqlite::types::Value,
}

impl PreparedAnalysis {
    /// Works out the stored form of one analysis: the columns lists filter on and the whole
    /// analysis as compressed JSON.
    pub fn new(item: &PostAnalysis) -> Result<PreparedAnalysis, StoreError> {
        let analysis = &item.analysis;
        let json = serde_json::to_string(analysis).map_err(|error| StoreError::BadData {
            path: format!("analysis of {} post {}", item.network, item.id),
            detail: format!("it cannot be written as JSON ({error})"),
        })?;
        Ok(PreparedAnalysis {
            network: item.network,
            id: item.id.clone(),
            version_at: item.version_at.as_microsecond(),
            engine: analysis.engine.clone(),
            sentiment: f64::from(analysis.sentiment.score),
            sentiment_label: analysis.sentiment.label.as_str(),
            priority: i64::from(analysis.priority.score),
            intents: spaced(
                analysis
                    .intents
                    .iter()
                    .filter(|intent| intent.detected)
                    .map(|intent| intent.kind.as_str()),
            ),
            themes: spaced(analysis.themes.iter().map(|theme| theme.id.as_str())),
            language: analysis.language.code.clone(),
            professional: analysis.professional.as_ref().map(|role| role.role.clone()),
            personal_data: i64::try_from(analysis.personal_data.len()).unwrap_or(i64::MAX),
            payload: crate::sqlite::packed::pack(&json),
        })
    }
}

/// Names as ` a b c ` (a space around each), so `LIKE '% b %'` finds one exactly.
fn spaced<'n>(names: impl Iterator<Item = &'n str>) -> String {
    let mut out = String::from(" ");
    for name in names {
        out.push_str(name);
        out.push(' ');
    }
    out
}
