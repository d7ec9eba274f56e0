//! The compact decision layout's vocabulary: attribute **slots**, and a request side
//! read through them at most once per decision.
//!
//! At compile time every attribute a rule tests gets a small integer slot on its side.
//! Probes and programs (`program.rs`) name attributes by slot, and a decision reads each
//! slot of the request from the entity once ([`SideValues`]): the entity's map of
//! attribute names is walked once per attribute, not once per probe and per atom.
//!
//! String values are not interned: measured, looking every string value up in a table
//! of the policy's literals cost more at small policies (a hash per value) than it saved
//! at large ones, where the probe's own hash lookup and the literal stored inline in the
//! program node (`program.rs`) already avoid the scattered reads.

use std::cell::Cell;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::entity::Entity;
use crate::inline_str::InlineStr;
use crate::ir::{self, Expr};
use crate::value::ValueRef;
use crate::vocabulary::Attribute;

/// How many slots of a side a decision remembers once read (on the stack); later slots
/// are read from the entity each time they are asked for.
pub(crate) const DENSE_SLOTS: usize = 12;

/// The attributes of one side, numbered.
#[derive(Debug, Default, Clone)]
pub(crate) struct SlotTable {
    /// Slot → the attribute as an entity's map key (whether it is a tag, and the name or
    /// tag key), so that reading a slot compares keys without a call to `memcmp`.
    keys: Vec<(bool, InlineStr)>,
    /// Plain attribute name → slot.
    names: FxHashMap<Arc<str>, u32>,
    /// Tag key → slot.
    tags: FxHashMap<Arc<str>, u32>,
}

impl SlotTable {
    /// The slot of `attribute`, numbering it when it is new.
    pub(crate) fn intern(&mut self, attribute: &Attribute) -> u32 {
        let (map, key) = match attribute {
            Attribute::Name(n) => (&mut self.names, n),
            Attribute::Tag(k) => (&mut self.tags, k),
        };
        // INVARIANT: slot counts fit in u32 (each is an attribute written in the policy).
        let next = self.keys.len() as u32;
        let slot = *map.entry(key.clone()).or_insert(next);
        if slot == next {
            self.keys.push(match attribute {
                Attribute::Name(n) => (false, InlineStr::from(&**n)),
                Attribute::Tag(k) => (true, InlineStr::from(&**k)),
            });
        }
        slot
    }

    /// The slot of `attribute`, if a rule tests it.
    pub(crate) fn get(&self, attribute: &Attribute) -> Option<u32> {
        match attribute {
            Attribute::Name(n) => self.names.get(&**n).copied(),
            Attribute::Tag(k) => self.tags.get(&**k).copied(),
        }
    }

    /// The slot of plain attribute `name`, if a rule tests it.
    #[inline]
    pub(crate) fn get_name(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }

    /// The slot of tag `key`, if a rule tests it.
    #[inline]
    pub(crate) fn get_tag(&self, key: &str) -> Option<u32> {
        self.tags.get(key).copied()
    }

    /// The number of slots.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// The slots of both sides: what a request is read through.
#[derive(Debug, Default, Clone)]
pub(crate) struct Layout {
    pub(crate) slots: [SlotTable; 2],
}

impl Layout {
    /// Numbers every attribute `rules` test, in load order.
    pub(crate) fn of(rules: &ir::RuleList) -> Layout {
        let mut layout = Layout::default();
        for rule in rules.iter() {
            layout.add(&rule.who, 0);
            layout.add(&rule.what, 1);
        }
        layout
    }

    fn add(&mut self, expr: &Expr, side: usize) {
        expr.for_each_atom(&mut |atom| {
            self.slots[side].intern(&atom.attribute);
        });
    }
}

/// One attribute of a request, as the compact layout reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Val<'a> {
    /// The attribute is absent.
    #[default]
    Absent,
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A set (sorted, unique).
    Set(&'a [String]),
}

impl<'a> Val<'a> {
    #[inline]
    fn of(value: Option<ValueRef<'a>>) -> Val<'a> {
        match value {
            None => Val::Absent,
            Some(ValueRef::Str(s)) => Val::Str(s),
            Some(ValueRef::Int(i)) => Val::Int(i),
            Some(ValueRef::Bool(b)) => Val::Bool(b),
            Some(ValueRef::Set(items)) => Val::Set(items),
        }
    }

    /// The value as the entity holds it (`None` when absent).
    #[inline]
    pub(crate) fn value(self) -> Option<ValueRef<'a>> {
        match self {
            Val::Absent => None,
            Val::Str(s) => Some(ValueRef::Str(s)),
            Val::Int(i) => Some(ValueRef::Int(i)),
            Val::Bool(b) => Some(ValueRef::Bool(b)),
            Val::Set(items) => Some(ValueRef::Set(items)),
        }
    }
}

/// One side of a request, read by slot: what probes and programs read attributes
/// through.
pub(crate) trait SlotValues<'a> {
    /// The value of `slot`.
    fn get(&self, slot: u32) -> Val<'a>;

    /// The entity the values come from.
    fn entity(&self) -> &'a Entity;
}

/// One side of a request, read on first use: each slot is read from the entity at most
/// once per decision (the first [`DENSE_SLOTS`] slots are remembered on the stack; later
/// ones are read when asked). Does not allocate.
#[derive(Debug)]
pub(crate) struct SideValues<'a> {
    entity: &'a Entity,
    slots: &'a SlotTable,
    read: [Cell<Option<Val<'a>>>; DENSE_SLOTS],
}

impl<'a> SideValues<'a> {
    /// `entity`'s values for the slots of `side`, read as they are asked for.
    #[inline]
    pub(crate) fn normalize(layout: &'a Layout, side: usize, entity: &'a Entity) -> Self {
        SideValues {
            entity,
            slots: &layout.slots[side],
            read: [const { Cell::new(None) }; DENSE_SLOTS],
        }
    }

    /// Every slot read now, into a vector that can be kept and shared between threads
    /// (the per-identity fast path).
    pub(crate) fn settle(&self) -> SettledValues<'a> {
        SettledValues {
            entity: self.entity,
            values: (0..self.slots.len())
                // INVARIANT: slot counts fit in u32.
                .map(|slot| self.get(slot as u32))
                .collect(),
        }
    }
}

impl<'a> SlotValues<'a> for SideValues<'a> {
    #[inline]
    fn get(&self, slot: u32) -> Val<'a> {
        let read = |slot: u32| match self.slots.keys.get(slot as usize) {
            Some((tag, key)) => Val::of(self.entity.value_of_key(*tag, key)),
            None => Val::Absent,
        };
        match self.read.get(slot as usize) {
            Some(cell) => match cell.get() {
                Some(value) => value,
                None => {
                    let value = read(slot);
                    cell.set(Some(value));
                    value
                }
            },
            None => read(slot),
        }
    }

    #[inline]
    fn entity(&self) -> &'a Entity {
        self.entity
    }
}

/// Every slot of one side, read: kept by [`PreparedIdentity`](crate::PreparedIdentity).
#[derive(Debug, Clone)]
pub(crate) struct SettledValues<'a> {
    entity: &'a Entity,
    values: Vec<Val<'a>>,
}

impl<'a> SlotValues<'a> for SettledValues<'a> {
    #[inline]
    fn get(&self, slot: u32) -> Val<'a> {
        self.values
            .get(slot as usize)
            .copied()
            .unwrap_or(Val::Absent)
    }

    #[inline]
    fn entity(&self) -> &'a Entity {
        self.entity
    }
}

impl<'a> Val<'a> {
    /// A value read from an entity directly (for probes that walk the entity).
    #[inline]
    pub(crate) fn read(value: ValueRef<'a>) -> Val<'a> {
        Val::of(Some(value))
    }
}
