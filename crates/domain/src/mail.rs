//! Mail to the service mailbox: where each kept message stands.

string_enum!(
    /// A kept message: waiting, turned into a contact (and maybe a ticket comment), or
    /// one a person has to look at.
    MailStatus {
        New = "new",
        Processed = "processed",
        /// Cannot be processed (too large, unreadable); the error says why.
        Error = "error",
    }
);
