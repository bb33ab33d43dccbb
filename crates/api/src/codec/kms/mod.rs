//! The key-management actions on the Alibaba wire, one codec file each.

mod decrypt;
mod encrypt;
mod generate_data_key;
mod generate_data_key_without_plaintext;
mod re_encrypt;
