//! The backup format's own checks: a round trip of every record kind, the digest checked
//! against another SHA-256 implementation, and every flipped byte, every truncation and
//! another version refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use openkms_core::store::{DestroyedVersion, MetaEntry, SNAPSHOT_TABLES, Snapshot};
use openkms_core::{KeyTag, PolicyType};
use openkms_store_tests::fixtures::{
    access_key, alias, attachment, blob, extra_version, full_key, minimal_key, policy, user,
};
use sha2::Digest;

use super::*;

/// A snapshot with two records of every table (every option set and unset, both flags).
fn sample() -> Snapshot {
    let (one, two) = (full_key(1), minimal_key(2));
    let mut s = Snapshot {
        meta: vec![
            MetaEntry {
                name: "root_key_check".into(),
                value: blob(7),
            },
            MetaEntry {
                name: "account_id".into(),
                value: b"1234567890123456".to_vec(),
            },
        ],
        keys: vec![one.key.clone(), two.key.clone()],
        versions: vec![
            one.version.clone(),
            two.version.clone(),
            extra_version(1, 1, 5),
        ],
        tags: one
            .tags
            .iter()
            .map(|t| KeyTag {
                key_id: one.key.key_id.clone(),
                tag: t.clone(),
            })
            .collect(),
        aliases: vec![
            alias("alias/a", &one.key.key_id),
            alias("alias/b", &two.key.key_id),
        ],
        destroyed: vec![DestroyedVersion {
            version_id: "gone".into(),
            key_id: "gone-key".into(),
            destroyed_at: -1,
        }],
        users: vec![user(1), user(2)],
        policies: vec![policy(1)],
        attachments: vec![
            attachment("user-1", PolicyType::Custom, "Policy-1", 3),
            attachment("user-2", PolicyType::System, "AliyunKMSFullAccess", 4),
        ],
        access_keys: vec![access_key(0, true), access_key(1, false)],
        login_profiles: vec![openkms_core::LoginProfileRecord {
            user_name: "user-1".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            password_reset_required: true,
            mfa_bind_required: false,
            created_at: 1,
            updated_at: -2,
        }],
        secrets: vec![secret_record()],
        secret_versions: vec![openkms_core::StoredSecretVersion {
            version: openkms_core::SecretVersion {
                secret_name: "db/pw".into(),
                version_id: "v1".into(),
                created_at: 9,
                data_type: openkms_core::SecretDataType::Binary,
            },
            ciphertext: blob(40),
        }],
        secret_stages: vec![openkms_core::SecretStage {
            secret_name: "db/pw".into(),
            stage: "ACSCurrent".into(),
            version_id: "v1".into(),
        }],
        secret_tags: vec![openkms_core::SecretTag {
            secret_name: "db/pw".into(),
            tag: openkms_core::Tag {
                key: "k".into(),
                value: "v".into(),
            },
        }],
        imports: vec![
            openkms_core::ImportRecord {
                key_id: "key-2".into(),
                fingerprint: Some(vec![7; 32]),
                material_expire_at: Some(1_900_000_000),
                tokens_not_before: 1_800_000_000_123,
                failed_unwraps: 3,
                disabled_before_delete: true,
            },
            openkms_core::ImportRecord::fresh("key-1"),
        ],
    };
    s.canonicalize();
    s
}

fn secret_record() -> openkms_core::SecretRecord {
    openkms_core::SecretRecord {
        name: "db/pw".into(),
        secret_type: "Generic".into(),
        description: String::new(),
        encryption_key_id: None,
        created_at: 9,
        updated_at: 10,
        planned_delete_at: Some(11),
        policy: None,
        revision: 2,
    }
}

fn file() -> Vec<u8> {
    encode(&sample(), &serde_json::json!({"note": "test"}))
}

#[test]
fn every_record_kind_round_trips() {
    let decoded = decode(&file()).unwrap();
    assert_eq!(decoded.snapshot, sample());
    assert_eq!(decoded.header["note"], "test");
    for (table, count) in decoded.snapshot.counts() {
        assert!(count > 0, "the sample has no {table}");
    }
}

#[test]
fn the_digest_is_sha256_of_everything_before_it() {
    let bytes = file();
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    assert_eq!(sha2::Sha256::digest(body).as_slice(), sum);
    assert_eq!(&bytes[..8], b"OKMSBAK\n");
    assert_eq!(&bytes[8..10], &[0, 1], "version 1, big-endian");
    let count = u64::from_be_bytes(body[body.len() - 8..].try_into().unwrap());
    assert_eq!(
        count as usize,
        sample().len(),
        "the trailer counts the records"
    );
    assert_eq!(body[body.len() - 9], 0, "the end marker precedes the count");
}

#[test]
fn every_flipped_byte_is_refused() {
    let bytes = file();
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        assert!(decode(&bad).is_err(), "a flip at byte {at} was accepted");
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = file();
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len]).is_err(), "{len} bytes were accepted");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(&longer).is_err(), "a byte appended was accepted");
}

#[test]
fn another_version_is_refused_by_name() {
    let mut bytes = file();
    bytes[9] = 2;
    let n = bytes.len() - 32;
    let sum = sha2::Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&sum);
    assert!(matches!(decode(&bytes), Err(FormatError::Version(2))));
}

#[test]
fn damage_under_a_good_digest_is_malformed_not_a_panic() {
    let mut bytes = file();
    let header_len = u32::from_be_bytes(bytes[10..14].try_into().unwrap()) as usize;
    bytes[14 + header_len] = 99;
    let n = bytes.len() - 32;
    let sum = sha2::Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&sum);
    assert!(matches!(decode(&bytes), Err(FormatError::Malformed(_))));
}

#[test]
fn meta_no_export_writes_is_refused() {
    for name in [
        "audit-anchor/node-a",
        "restored_from_backup",
        "no_such_meta",
    ] {
        let mut s = sample();
        s.meta.push(MetaEntry {
            name: name.into(),
            value: b"planted".to_vec(),
        });
        let refused = decode(&encode(&s, &serde_json::json!({})));
        assert!(
            matches!(&refused, Err(FormatError::Malformed(m)) if m.contains("metadata name")),
            "{name}: {refused:?}"
        );
    }
}

#[test]
fn table_codes_follow_the_snapshot_tables() {
    let names: Vec<_> = TABLES.iter().map(|(_, n, _)| *n).collect();
    assert_eq!(names, SNAPSHOT_TABLES);
    for (i, (code, _, _)) in TABLES.iter().enumerate() {
        assert_eq!(usize::from(*code), i + 1);
    }
}
