'use strict';
// EncryptionContext keys that are awkward on the wire (issue 12), through the npm SDK, which
// flattens the context into EncryptionContext.<key>=<value> parameters and signs them (V1)
// sorted by raw name in JavaScript's order, UTF-16 code units. The keys hold '/', ':', '%', a
// space, a multi-byte UTF-8 name, a name above U+FFFF and one in U+E000-U+FFFF (where the
// UTF-16 order differs from the Python and Go SDKs' code-point order), beside plain ASCII.
// Encrypt, Decrypt, GenerateDataKey and ReEncrypt each carry one.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');

const { startServerAndSdk, stopServerAndSdk } = require('./lib/harness');

const AWKWARD = {
  plain: 'v',
  'app.name': 'web',
  'app/env': 'prod',
  'a:b': 'c:d',
  'p%q': '50%',
  'with space': 'x y',
  '名前': '値',
  '\u{1F600}': 'smile',
  '\uFF21': 'fullwidth',
};

let server;
let kms;

before(async () => {
  ({ server, kms } = await startServerAndSdk());
});

after(() => stopServerAndSdk({ server, kms }));

test('awkward context keys through Encrypt, Decrypt, GenerateDataKey and ReEncrypt', async () => {
  const { keyMetadata: meta } = await kms.createKey({});
  const enc = await kms.encrypt({ keyId: meta.keyId, plaintext: 'awkward', encryptionContext: AWKWARD });
  const reordered = Object.fromEntries(Object.entries(AWKWARD).reverse());
  const dec = await kms.decrypt({ ciphertextBlob: enc.ciphertextBlob, encryptionContext: reordered });
  assert.equal(dec.plaintext, 'awkward');

  const gdk = await kms.generateDataKey({ keyId: meta.keyId, numberOfBytes: 16, encryptionContext: AWKWARD });
  const other = { '\u{1F600}': 'x', '\uFF21': 'y', 'a/b': 'z', 'a.c': 'w' };
  // this SDK version has no ReEncrypt method: its own doRequest sends it as its methods would
  const re = await kms.doRequest({ action: 'ReEncrypt', query: { CiphertextBlob: gdk.ciphertextBlob,
    SourceEncryptionContext: reordered, DestinationKeyId: meta.keyId, DestinationEncryptionContext: other } });
  const opened = await kms.decrypt({ ciphertextBlob: re.CiphertextBlob, encryptionContext: other });
  assert.equal(opened.plaintext, gdk.plaintext);
});
