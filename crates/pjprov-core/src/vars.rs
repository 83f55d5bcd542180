//! A phone line's variables: an ordered list of names and values, looked up by exact name.

use compact_str::CompactString;

/// Ordered variables with unique names (case-sensitive, as Asterisk's `ast_var_find`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    items: Vec<(CompactString, CompactString)>,
}

impl Vars {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name`, replacing a previous value in place.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.items.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.into(),
            None => self.items.push((name.into(), value.into())),
        }
    }

    /// Sets `name` only when it is not set yet (how Asterisk's derived and default variables behave, since
    /// its lookups return the first of a name). Empty values are not stored, as `assign_and_insert` does.
    pub fn set_default(&mut self, name: &str, value: &str) {
        if !value.is_empty() && !self.contains(name) {
            self.items.push((name.into(), value.into()));
        }
    }

    /// Gives back spare capacity (a line's variables are complete once it is built). The variables move
    /// to a new allocation of the exact size rather than shrinking in place, which would leave a hole
    /// behind every line that no page-sized release can reclaim.
    pub fn shrink_to_fit(&mut self) {
        if self.items.capacity() > self.items.len() {
            let mut exact = Vec::with_capacity(self.items.len());
            exact.append(&mut self.items);
            self.items = exact;
        }
    }

    /// Every variable in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Vars {
    fn from_iter<T: IntoIterator<Item = (&'a str, &'a str)>>(iter: T) -> Self {
        let mut vars = Vars::new();
        for (name, value) in iter {
            vars.set(name, value);
        }
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_in_place_and_default_keeps_first() {
        let mut v = Vars::new();
        v.set("A", "1");
        v.set("B", "2");
        v.set("A", "3");
        v.set_default("B", "x");
        v.set_default("C", "4");
        v.set_default("D", "");
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            [("A", "3"), ("B", "2"), ("C", "4")]
        );
        assert_eq!(v.get("a"), None, "names are case-sensitive");
    }
}
