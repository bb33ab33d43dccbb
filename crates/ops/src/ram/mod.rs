//! The RAM operations (users, AccessKeys, policies, attachments), one file each.
