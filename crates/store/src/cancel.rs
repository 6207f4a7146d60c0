//! Stopping reads that nobody waits for any more.
//!
//! A web request that runs a search hands the work to a blocking thread; when the request's
//! deadline passes or its client hangs up, the request is dropped, but the thread would go on
//! reading until the query ends. A [`Cancel`] lets the request stop that work itself: reads made
//! on a thread inside [`Cancel::scope`] register their connection with it, and
//! [`Cancel::cancel`] interrupts whatever statement that connection is running (SQLite's
//! `sqlite3_interrupt`, through rusqlite's `InterruptHandle`). The interrupted read fails with
//! [`crate::StoreError::Cancelled`].
//!
//! Invariants:
//! - a connection is registered only while a read runs on it, and interrupts are sent under the
//!   same lock that unregisters it, so an interrupt never reaches the next read of a connection
//!   that went back to the pool;
//! - a read that starts after the cancellation fails at once, and a statement that starts
//!   between two statements of a read already running is stopped by the connection's progress
//!   handler (an interrupt only reaches statements that are running);
//! - a thread outside any scope reads as before: command-line reads are never cancelled.

use std::{
    cell::RefCell,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use rusqlite::{Connection, InterruptHandle};

/// A cancellation shared by a request and the store reads it started.
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// The connection of the read running for this request, if one runs now.
    running: Mutex<Option<InterruptHandle>>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// The cancellation of the scope this thread runs in, if any.
    static CURRENT: RefCell<Option<Cancel>> = const { RefCell::new(None) };
}

impl Cancel {
    /// A cancellation not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Runs `f` with every store read it makes on this thread stoppable by [`Cancel::cancel`].
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<Cancel>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|current| *current.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        let _restore = Restore(previous);
        f()
    }

    /// Stops the read running in this cancellation's scope, and every read it would start.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = running.as_ref() {
            handle.interrupt();
        }
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// A guard that cancels when dropped, unless [`CancelOnDrop::disarm`]ed first: hold it in
    /// the future of a request, so that a request dropped (client gone, deadline passed) stops
    /// its reads.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Some(self.clone()))
    }
}

/// Cancels its [`Cancel`] when dropped; see [`Cancel::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(Option<Cancel>);

impl CancelOnDrop {
    /// The work finished: dropping the guard no longer cancels.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.0.take() {
            cancel.cancel();
        }
    }
}

/// A read registered with the cancellation of the current scope; unregisters when dropped.
pub(crate) struct Registered(Option<Cancel>);

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(cancel) = self.0.take() {
            *cancel
                .inner
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}

/// Registers a read about to run on `conn` with the current scope's cancellation. `None` when
/// the scope is already cancelled: the read must not start.
pub(crate) fn register(conn: &Connection) -> Option<Registered> {
    let Some(cancel) = CURRENT.with(|current| current.borrow().clone()) else {
        return Some(Registered(None));
    };
    let mut running = cancel
        .inner
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if cancel.is_cancelled() {
        return None;
    }
    *running = Some(conn.get_interrupt_handle());
    drop(running);
    Some(Registered(Some(cancel)))
}

/// Whether the current scope is cancelled: the progress handler of reader connections asks it
/// between virtual machine steps, so that a statement started after an interrupt stops too.
pub(crate) fn current_is_cancelled() -> bool {
    CURRENT.with(|current| current.borrow().as_ref().is_some_and(Cancel::is_cancelled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        let outer = Cancel::new();
        let inner = Cancel::new();
        assert!(!current_is_cancelled());
        outer.scope(|| {
            inner.cancel();
            inner.scope(|| assert!(current_is_cancelled()));
            assert!(!current_is_cancelled());
        });
        assert!(!current_is_cancelled());
    }

    #[test]
    fn a_guard_cancels_unless_disarmed() {
        let cancel = Cancel::new();
        cancel.cancel_on_drop().disarm();
        assert!(!cancel.is_cancelled());
        drop(cancel.cancel_on_drop());
        assert!(cancel.is_cancelled());
    }
}
