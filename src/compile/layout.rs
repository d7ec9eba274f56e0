//! The compact decision layout's vocabulary: attribute **slots** and string **symbols**,
//! and a request side normalised into them once per decision.
//!
//! At compile time every attribute a rule tests gets a small integer slot on its side,
//! and every string literal an equality or `in` compares with gets a symbol. A decision
//! then reads each attribute of the request once ([`SideValues::normalize`]): a string
//! value is looked up among the symbols once, so that every later probe and comparison
//! is an integer comparison and nothing hashes or dereferences a string again.
//!
//! A string that is no literal of the policy gets [`NO_SYMBOL`]: it equals no literal,
//! which is exactly what equality with every literal would say.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::entity::Entity;
use crate::ir::{self, Expr, Test};
use crate::value::ValueRef;
use crate::vocabulary::{Attribute, Literal};

/// The symbol of a string that is no literal of the policy.
pub(crate) const NO_SYMBOL: u32 = u32::MAX;

/// How many slots a side may have for its values to be normalised into an array on the
/// stack; a side with more is read lazily, one attribute at a time.
pub(crate) const DENSE_SLOTS: usize = 12;

/// The attributes of one side, numbered.
#[derive(Debug, Default, Clone)]
pub(crate) struct SlotTable {
    /// Slot → attribute.
    attributes: Vec<Attribute>,
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
        let next = self.attributes.len() as u32;
        let slot = *map.entry(key.clone()).or_insert(next);
        if slot == next {
            self.attributes.push(attribute.clone());
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
        self.attributes.len()
    }

    /// The attribute of `slot`.
    pub(crate) fn attribute(&self, slot: u32) -> &Attribute {
        &self.attributes[slot as usize]
    }
}

/// The string literals of a policy, numbered.
#[derive(Debug, Default, Clone)]
pub(crate) struct Symbols {
    ids: FxHashMap<Arc<str>, u32>,
    texts: Vec<Arc<str>>,
}

impl Symbols {
    /// The symbol of `text`, numbering it when it is new.
    pub(crate) fn intern(&mut self, text: &Arc<str>) -> u32 {
        // INVARIANT: symbol counts fit in u32 (each is a literal written in the policy).
        let next = self.texts.len() as u32;
        let id = *self.ids.entry(text.clone()).or_insert(next);
        if id == next {
            self.texts.push(text.clone());
        }
        id
    }

    /// The symbol of `text`, or [`NO_SYMBOL`].
    #[inline]
    pub(crate) fn get(&self, text: &str) -> u32 {
        if self.texts.is_empty() {
            return NO_SYMBOL;
        }
        self.ids.get(text).copied().unwrap_or(NO_SYMBOL)
    }

    /// The text of symbol `id`.
    #[inline]
    pub(crate) fn text(&self, id: u32) -> &str {
        &self.texts[id as usize]
    }
}

/// Slots of both sides and the symbols: what a request is normalised with.
#[derive(Debug, Default, Clone)]
pub(crate) struct Layout {
    pub(crate) slots: [SlotTable; 2],
    pub(crate) symbols: Symbols,
}

impl Layout {
    /// Numbers every attribute and string literal `rules` test, in load order.
    pub(crate) fn of(rules: &[ir::Rule]) -> Layout {
        let mut layout = Layout::default();
        for rule in rules {
            layout.add(&rule.who, 0);
            layout.add(&rule.what, 1);
        }
        layout
    }

    fn add(&mut self, expr: &Expr, side: usize) {
        expr.for_each_atom(&mut |atom| {
            self.slots[side].intern(&atom.attribute);
            let mut literal = |l: &Literal| {
                if let Literal::Str(s) = l {
                    self.symbols.intern(s);
                }
            };
            match &atom.test {
                Test::Eq(l) => literal(l),
                Test::In(ls) => ls.iter().for_each(literal),
                Test::Has | Test::Like(_) | Test::Range { .. } | Test::EmptyRange => {}
            }
        });
    }
}

/// One attribute of a request, as the compact layout reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Val<'a> {
    /// The attribute is absent.
    #[default]
    Absent,
    /// A string, with its symbol ([`NO_SYMBOL`] when it is no literal of the policy).
    Str(&'a str, u32),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A set (sorted, unique).
    Set(&'a [String]),
}

impl<'a> Val<'a> {
    #[inline]
    fn of(value: Option<ValueRef<'a>>, symbols: &Symbols) -> Val<'a> {
        match value {
            None => Val::Absent,
            Some(ValueRef::Str(s)) => Val::Str(s, symbols.get(s)),
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
            Val::Str(s, _) => Some(ValueRef::Str(s)),
            Val::Int(i) => Some(ValueRef::Int(i)),
            Val::Bool(b) => Some(ValueRef::Bool(b)),
            Val::Set(items) => Some(ValueRef::Set(items)),
        }
    }
}

/// One side of a request, normalised: the value of each slot.
///
/// With at most [`DENSE_SLOTS`] slots every value is read once into an array on the
/// stack; with more, each is read from the entity when asked (still once per probe or
/// atom, never per rule). Neither allocates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SideValues<'a> {
    Dense {
        values: [Val<'a>; DENSE_SLOTS],
    },
    Lazy {
        entity: &'a Entity,
        slots: &'a SlotTable,
        symbols: &'a Symbols,
    },
}

impl<'a> SideValues<'a> {
    /// Reads `entity`'s values for the slots of `side`.
    #[inline]
    pub(crate) fn normalize(layout: &'a Layout, side: usize, entity: &'a Entity) -> Self {
        let slots = &layout.slots[side];
        let symbols = &layout.symbols;
        if slots.len() > DENSE_SLOTS {
            return SideValues::Lazy {
                entity,
                slots,
                symbols,
            };
        }
        let mut values = [Val::Absent; DENSE_SLOTS];
        for (value, attribute) in values.iter_mut().zip(&slots.attributes) {
            *value = Val::of(entity.value_of(attribute), symbols);
        }
        SideValues::Dense { values }
    }

    /// The value of `slot`.
    #[inline]
    pub(crate) fn get(&self, slot: u32) -> Val<'a> {
        match self {
            SideValues::Dense { values } => values[slot as usize],
            SideValues::Lazy {
                entity,
                slots,
                symbols,
            } => Val::of(entity.value_of(slots.attribute(slot)), symbols),
        }
    }

    /// The entity's attributes that have a slot, with it (lazy sides only: a dense side's
    /// slots are few enough to walk).
    pub(crate) fn lazy_parts(&self) -> Option<(&'a Entity, &'a SlotTable, &'a Symbols)> {
        match *self {
            SideValues::Dense { .. } => None,
            SideValues::Lazy {
                entity,
                slots,
                symbols,
            } => Some((entity, slots, symbols)),
        }
    }

    /// A value read from an entity directly (for probes that walk the entity).
    #[inline]
    pub(crate) fn val_of(value: ValueRef<'a>, symbols: &Symbols) -> Val<'a> {
        Val::of(Some(value), symbols)
    }
}
