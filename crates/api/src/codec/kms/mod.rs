//! The key-management actions on the Alibaba wire, one codec file each.

mod create_alias;
mod decrypt;
mod delete_alias;
mod encrypt;
mod generate_data_key;
mod generate_data_key_without_plaintext;
mod list_resource_tags;
mod list_tag_resources;
mod re_encrypt;
mod tag_resource;
mod tag_resources;
mod tags;
mod untag_resource;
mod untag_resources;
mod update_alias;
