//! Scheduled events: any event may carry an effective time; due events apply in time
//! order ("all her access ends at 18:00 on her last day" is a scheduled `Leave`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::event::Event;
use crate::diagnostics::Code;
use crate::error::InputError;

pub use jiff::Timestamp;

/// An event waiting for its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    /// Its number in the schedule (never reused), for listing and cancelling.
    pub id: u64,
    /// When it takes effect (RFC 3339).
    pub at: Timestamp,
    /// What happens then.
    pub event: Event,
}

/// Events waiting for their time, in time order (ties in the order they were added).
///
/// ```
/// use tenure::lifecycle::{Event, Schedule, Timestamp};
///
/// let mut schedule = Schedule::new();
/// let last_day: Timestamp = "2025-01-31T18:00:00Z".parse()?;
/// let id = schedule.add(last_day, Event::Leave { id: "pamela".into() });
/// assert!(schedule.take_due("2025-01-31T17:59:59Z".parse()?).is_empty());
/// let due = schedule.take_due("2025-01-31T18:00:00Z".parse()?);
/// assert_eq!(due.len(), 1);
/// assert_eq!(due[0].id, id);
/// assert!(schedule.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    entries: BTreeMap<(Timestamp, u64), Event>,
    at_of: BTreeMap<u64, Timestamp>,
    next_id: u64,
}

impl Schedule {
    /// An empty schedule.
    pub fn new() -> Schedule {
        Schedule::default()
    }

    /// Schedules `event` at `at`, returning its id.
    pub fn add(&mut self, at: Timestamp, event: Event) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.entries.insert((at, id), event);
        self.at_of.insert(id, at);
        id
    }

    /// Puts back an entry read from a store, keeping its id (later ids stay above it).
    pub fn restore(&mut self, scheduled: Scheduled) {
        self.next_id = self.next_id.max(scheduled.id);
        self.at_of.insert(scheduled.id, scheduled.at);
        self.entries
            .insert((scheduled.at, scheduled.id), scheduled.event);
    }

    /// Cancels the entry with this id, returning it.
    ///
    /// # Errors
    /// No such entry (never scheduled, already applied or cancelled).
    pub fn cancel(&mut self, id: u64) -> Result<Scheduled, InputError> {
        let not_scheduled = || {
            InputError::new(
                Code::UnknownScheduled,
                "id",
                format!("no event {id} is scheduled"),
            )
        };
        let at = self.at_of.remove(&id).ok_or_else(not_scheduled)?;
        let event = self.entries.remove(&(at, id)).ok_or_else(not_scheduled)?;
        Ok(Scheduled { id, at, event })
    }

    /// Every entry, in time order.
    pub fn iter(&self) -> impl Iterator<Item = Scheduled> + '_ {
        self.entries.iter().map(|(&(at, id), event)| Scheduled {
            id,
            at,
            event: event.clone(),
        })
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// When the next entry is due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.entries.keys().next().map(|&(at, _)| at)
    }

    /// Removes and returns the entries due at `now` (at or before it), in time order.
    pub fn take_due(&mut self, now: Timestamp) -> Vec<Scheduled> {
        let mut due = Vec::new();
        while let Some(entry) = self.entries.first_entry() {
            let (at, id) = *entry.key();
            if at > now {
                break;
            }
            let event = entry.remove();
            self.at_of.remove(&id);
            due.push(Scheduled { id, at, event });
        }
        due
    }
}
