//! Enumerations stored and sent as snake_case strings, shared by every area.

/// An enum with `ALL`, `as_str`, `parse` and `Display`, serialized as its snake_case name.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s.trim())
            }
        }

        /// Read from a row (`#[sqlx(try_from = "String")]` in the store): a value the
        /// enum does not know is an error, never a string passed on.
        impl TryFrom<String> for $name {
            type Error = $crate::UnknownValue;
            fn try_from(s: String) -> Result<Self, $crate::UnknownValue> {
                $name::parse(&s).ok_or($crate::UnknownValue { kind: stringify!($name), value: s })
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `TryFrom<String>` for a hand-written enum with `parse(&str) -> Option<Self>`, so the store
/// decodes its column into it (`#[sqlx(try_from = "String")]`).
macro_rules! try_from_string {
    ($($name:ident),* $(,)?) => {$(
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::UnknownValue;
            fn try_from(s: String) -> Result<Self, $crate::UnknownValue> {
                $name::parse(&s).ok_or($crate::UnknownValue { kind: stringify!($name), value: s })
            }
        }
    )*};
}
