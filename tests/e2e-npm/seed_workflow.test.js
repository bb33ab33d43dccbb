'use strict';
// The seed workflow through the official npm SDK @alicloud/kms20160120 (RPC signature V1), over
// TLS with the server's generated CA: CreateKey, CreateAlias alias/Apollo/WorkKey, Encrypt a real
// PEM private key with an EncryptionContext object (the SDK flattens it on the wire to
// EncryptionContext.<key>=<value>), Decrypt with the same object, byte for byte.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, test } = require('node:test');

const { startServerAndSdk, stopServerAndSdk } = require('./lib/harness');
const { ACCESS_KEY_ID, ACCESS_KEY_SECRET, hermeticEnv, openkmsBinary } = require('./lib/server');

const SEED_ALIAS = 'alias/Apollo/WorkKey';
// a space, a real '+', '*' (sent raw by this SDK), '~', '/', '=', non-ASCII
const CONTEXT = { app: 'Apollo', purpose: 'work key + backup/a*b~c=d', owner: 'ops é' };
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

let server;
let kms;
let workDir;

before(async () => {
  ({ server, kms } = await startServerAndSdk());
  assert.equal(server.scheme, 'https', `the server did not serve TLS: ${server.url}`);
  assert.ok(fs.existsSync(server.caPath), `no generated CA at ${server.caPath}`);
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openkms-e2e-npm-seed-'));
});

after(async () => {
  await stopServerAndSdk({ server, kms });
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/** A fresh RSA-4096 private key in PEM (PKCS#8, about 3.2 KB), made now, never committed. */
function makeRsaPem() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 4096,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return privateKey;
}

function assertBlob(blob) {
  assert.equal(typeof blob, 'string');
  assert.ok(blob.length > 0 && B64_RE.test(blob), `CiphertextBlob is not padded base64: ${blob}`);
}

async function expectSdkError(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.sdkMessage}`);
    return true;
  });
}

test('seed workflow: a PEM private key with an EncryptionContext object comes back byte for byte', async () => {
  const certs = path.join(workDir, 'certs');
  fs.mkdirSync(certs);
  fs.writeFileSync(path.join(certs, 'key.pem'), makeRsaPem());

  const created = await kms.createKey({ description: 'Apollo work key', keySpec: 'Aliyun_AES_256',
    keyUsage: 'ENCRYPT/DECRYPT', protectionLevel: 'SOFTWARE', origin: 'Aliyun_KMS' });
  const meta = created.keyMetadata;
  assert.ok(created.requestId);
  assert.equal(meta.keyState, 'Enabled');
  assert.equal(meta.description, 'Apollo work key');
  const aliased = await kms.createAlias({ aliasName: SEED_ALIAS, keyId: meta.keyId });
  assert.ok(aliased.requestId);

  // encryption: the PEM text as it is, read as text, is the Plaintext
  const content = fs.readFileSync(path.join(certs, 'key.pem'), 'utf8');
  assert.ok(content.length > 3000 && content.length <= 6144 && content.includes('PRIVATE KEY'));
  const enc = await kms.encrypt({ keyId: SEED_ALIAS, plaintext: content, encryptionContext: CONTEXT });
  assert.equal(enc.keyId, meta.keyId);
  assert.equal(enc.keyVersionId, meta.primaryKeyVersion);
  assertBlob(enc.ciphertextBlob);
  fs.writeFileSync(path.join(certs, 'key.pem.cipher'), enc.ciphertextBlob);

  // decryption: the blob alone finds the key; the same object (in another order) opens it
  const blob = fs.readFileSync(path.join(certs, 'key.pem.cipher'), 'utf8');
  assert.ok(!blob.includes('PRIVATE KEY'));
  const reordered = Object.fromEntries(Object.entries(CONTEXT).reverse());
  const dec = await kms.decrypt({ ciphertextBlob: blob, encryptionContext: reordered });
  assert.equal(dec.keyId, meta.keyId);
  assert.equal(dec.keyVersionId, enc.keyVersionId);
  assert.ok(dec.requestId);
  fs.writeFileSync(path.join(certs, 'decrypted_key.pem'), dec.plaintext);
  assert.ok(fs.readFileSync(path.join(certs, 'decrypted_key.pem'))
    .equals(fs.readFileSync(path.join(certs, 'key.pem'))), 'the decrypted file differs from the original');

  // the context is bound: without it, or with one value changed, Decrypt is refused
  await expectSdkError(kms.decrypt({ ciphertextBlob: blob }), 'InvalidParameterError');
  await expectSdkError(kms.decrypt({ ciphertextBlob: blob,
    encryptionContext: { ...CONTEXT, purpose: 'work key   backup/a*b~c=d' } }), 'InvalidParameterError');
  await expectSdkError(kms.decrypt({ ciphertextBlob: blob,
    encryptionContext: { ...CONTEXT, extra: 'x' } }), 'InvalidParameterError');
});

test('GenerateDataKey: the data key decrypts back to the same bytes', async () => {
  const { keyMetadata: meta } = await kms.createKey({});
  const alias = `alias/npm/datakey-${crypto.randomUUID()}`;
  await kms.createAlias({ aliasName: alias, keyId: meta.keyId });

  const gdk = await kms.generateDataKey({ keyId: alias, numberOfBytes: 32, encryptionContext: CONTEXT });
  assert.equal(gdk.keyId, meta.keyId);
  assert.equal(gdk.keyVersionId, meta.primaryKeyVersion);
  assert.equal(Buffer.from(gdk.plaintext, 'base64').length, 32);
  assertBlob(gdk.ciphertextBlob);
  const dec = await kms.decrypt({ ciphertextBlob: gdk.ciphertextBlob, encryptionContext: CONTEXT });
  assert.equal(dec.plaintext, gdk.plaintext);
  assert.equal(dec.keyId, meta.keyId);

  const sealed = await kms.generateDataKeyWithoutPlaintext({ keyId: meta.keyId, keySpec: 'AES_128' });
  assert.equal(sealed.keyId, meta.keyId);
  assert.equal(sealed.plaintext, undefined);
  const opened = await kms.decrypt({ ciphertextBlob: sealed.ciphertextBlob });
  assert.equal(Buffer.from(opened.plaintext, 'base64').length, 16);
});

test('a context flattened by the npm SDK equals the same context sent as JSON (openkms CLI)', async () => {
  const { keyMetadata: meta } = await kms.createKey({});
  const enc = await kms.encrypt({ keyId: meta.keyId, plaintext: 'cross-client secret', encryptionContext: CONTEXT });

  const configHome = fs.mkdtempSync(path.join(os.tmpdir(), 'openkms-e2e-npm-cli-'));
  try {
    const cli = (context) => spawnSync(openkmsBinary(), ['Decrypt', '--CiphertextBlob', enc.ciphertextBlob,
      '--EncryptionContext', JSON.stringify(context)], {
      env: hermeticEnv({
        OPENKMS_ENDPOINT: server.url,
        ALIBABA_CLOUD_CA_BUNDLE: server.caPath,
        ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
        XDG_CONFIG_HOME: configHome,
      }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    const ok = cli(CONTEXT);
    assert.equal(ok.status, 0, `openkms Decrypt failed: ${ok.stderr}${ok.stdout}`);
    const out = JSON.parse(ok.stdout);
    assert.equal(out.Plaintext, 'cross-client secret');
    assert.equal(out.KeyId, meta.keyId);
    const refused = cli({ ...CONTEXT, owner: 'ops e' });
    assert.notEqual(refused.status, 0, 'a different context must be refused');
    assert.match(refused.stderr + refused.stdout, /InvalidParameter/);
  } finally {
    fs.rmSync(configHome, { recursive: true, force: true });
  }
});
