//! The one callback a widget reports to (what the user asked for), set by the window.

use std::cell::RefCell;

type Callback<T> = Box<dyn Fn(T)>;

/// A settable `Fn(T)`; calling it before it is set does nothing.
pub struct Handler<T>(RefCell<Option<Callback<T>>>);

impl<T> Default for Handler<T> {
    fn default() -> Self {
        Self(RefCell::new(None))
    }
}

impl<T> std::fmt::Debug for Handler<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Handler")
            .field(&self.0.borrow().is_some())
            .finish()
    }
}

impl<T> Handler<T> {
    /// Replaces the callback.
    pub fn set(&self, f: impl Fn(T) + 'static) {
        *self.0.borrow_mut() = Some(Box::new(f));
    }

    /// Calls the callback, if one is set.
    pub fn call(&self, value: T) {
        if let Some(f) = self.0.borrow().as_ref() {
            f(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn calls_reach_the_callback_once_it_is_set() {
        let handler = Handler::default();
        handler.call(1);
        let seen = Rc::new(Cell::new(0));
        let s = Rc::clone(&seen);
        handler.set(move |v| s.set(s.get() + v));
        handler.call(2);
        handler.call(3);
        assert_eq!(seen.get(), 5);
    }
}
