//! The map a context is: the storage behind context variables (`var.rs`),
//! and the ids that name variables, loops and snapshots.
//!
//! A context is an immutable map shared copy-on-write ([`Map`]): `None`
//! when empty, so copying an empty context costs no atomic operation;
//! otherwise an `Arc` of a short vector of [`Entry`]s (variable id and
//! value), scanned linearly (contexts hold a handful of variables, where a
//! scan beats hashing). Copying a context clones the `Arc`; a `set` copies
//! the vector only when it is shared (`Arc::make_mut`).

use std::any::Any;
use std::mem;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One variable's value.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;
/// The entries of a non-empty context.
pub(crate) type Entries = Vec<Entry>;
/// A context: `None` is the empty one.
pub(crate) type Map = Option<Arc<Entries>>;

/// One variable's value in a context.
#[derive(Clone)]
pub(crate) struct Entry {
    id: u64,
    /// Where `value`'s data is: reading through it saves the lookup of
    /// the data's offset in the `Arc` (which `Arc::as_ptr` of a
    /// `dyn Any` takes from the vtable) on every `get`.
    data: NonNull<()>,
    value: Value,
}

// SAFETY: `data` points into the allocation `value` owns, which is
// `Send + Sync`; the pointer is only read through as `value`'s data.
unsafe impl Send for Entry {}
// SAFETY: as above.
unsafe impl Sync for Entry {}

impl Entry {
    fn new(id: u64, value: Value) -> Entry {
        Entry {
            id,
            data: NonNull::from(&*value).cast(),
            value,
        }
    }
}

/// Ids of variables, loops (their `block_on` contexts) and snapshots; 0 is
/// never handed out (it means "not assigned yet").
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id, unique in the process.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Where the value of variable `id` in `map` is (valid while that
/// value's `Arc` lives).
#[inline]
pub(crate) fn find(map: &Map, id: u64) -> Option<NonNull<()>> {
    let entries = map.as_deref()?;
    // Most contexts hold one or two variables: the first is looked at
    // without setting up a loop.
    let (first, rest) = entries.split_first()?;
    if first.id == id {
        return Some(first.data);
    }
    rest.iter().find(|e| e.id == id).map(|e| e.data)
}

/// Sets variable `id` to `value` in `map`; the value it replaces, if any.
/// Runs no user code (a shared vector is cloned: that clones `Arc`s).
pub(crate) fn insert(map: &mut Map, id: u64, value: Value) -> Option<Value> {
    let entries = Arc::make_mut(map.get_or_insert_with(|| Arc::new(Vec::with_capacity(4))));
    let new = Entry::new(id, value);
    match entries.iter_mut().find(|e| e.id == id) {
        Some(e) => Some(mem::replace(e, new).value),
        None => {
            entries.push(new);
            None
        }
    }
}

/// Unsets variable `id` in `map`; the value it had, if any (the caller
/// drops it, outside any borrow of the slot). Runs no user code.
pub(crate) fn remove(map: &mut Map, id: u64) -> Option<Value> {
    let entries = map.as_ref()?;
    let at = entries.iter().position(|e| e.id == id)?;
    let entries = Arc::make_mut(map.as_mut()?);
    let old = entries.swap_remove(at).value;
    if entries.is_empty() {
        // Dropping an empty vector runs no user code.
        *map = None;
    }
    Some(old)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn value(v: u32) -> Value {
        Arc::new(v)
    }

    fn read(map: &Map, id: u64) -> Option<u32> {
        // SAFETY: the values of these tests are `u32`s, alive in `map`.
        find(map, id).map(|p| unsafe { *p.cast::<u32>().as_ref() })
    }

    #[test]
    fn a_shared_map_is_copied_on_write_and_an_unshared_one_is_not() {
        let mut map: Map = None;
        assert_eq!(insert(&mut map, 1, value(10)).map(|_| ()), None);
        let before = Arc::as_ptr(map.as_ref().unwrap());
        insert(&mut map, 2, value(20));
        assert_eq!(
            Arc::as_ptr(map.as_ref().unwrap()),
            before,
            "unshared: in place"
        );

        let copy = map.clone();
        let old = insert(&mut map, 1, value(11)).unwrap();
        assert_eq!(old.downcast_ref::<u32>(), Some(&10));
        assert_ne!(Arc::as_ptr(map.as_ref().unwrap()), before, "shared: copied");
        assert_eq!((read(&map, 1), read(&copy, 1)), (Some(11), Some(10)));
        assert_eq!((read(&map, 2), read(&copy, 2)), (Some(20), Some(20)));
    }

    #[test]
    fn removing_the_last_variable_empties_the_map() {
        let mut map: Map = None;
        assert!(remove(&mut map, 1).is_none());
        insert(&mut map, 1, value(1));
        insert(&mut map, 2, value(2));
        let copy = map.clone();
        assert!(remove(&mut map, 3).is_none());
        assert_eq!(
            remove(&mut map, 1).and_then(|v| v.downcast_ref::<u32>().copied()),
            Some(1)
        );
        assert_eq!((read(&map, 1), read(&map, 2)), (None, Some(2)));
        assert!(remove(&mut map, 2).is_some());
        assert!(map.is_none());
        assert_eq!((read(&copy, 1), read(&copy, 2)), (Some(1), Some(2)));
    }
}
