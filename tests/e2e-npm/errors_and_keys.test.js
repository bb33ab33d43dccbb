'use strict';
// The npm SDK @alicloud/kms20160120 against openkms: errors as the SDK reports them
// (code = the server's Code + "Error", data = the error body), TLS that really verifies, and the
// key and alias calls around the seed workflow (booleans, DescribeKey, ListKeys, UpdateAlias).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { after, before, test } = require('node:test');

const { startServerAndSdk, stopServerAndSdk } = require('./lib/harness');
const { ACCESS_KEY_SECRET, ACCOUNT_ID, REGION_ID } = require('./lib/server');
const { startSdk } = require('./lib/sdk');

const ENVELOPE = ['RequestId', 'HostId', 'Code', 'Message', 'Recommend'];

let server;
let kms;

before(async () => {
  ({ server, kms } = await startServerAndSdk());
  assert.equal(server.scheme, 'https', `the server did not serve TLS: ${server.url}`);
  assert.ok(fs.existsSync(server.caPath), `no generated CA at ${server.caPath}`);
});

after(() => stopServerAndSdk({ server, kms }));

/** `promise` must reject with the SDK's error for HTTP `status` and server Code `code`. */
async function expectServerError(promise, status, code) {
  let error;
  await assert.rejects(promise, (e) => { error = e; return true; });
  assert.equal(error.code, `${code}Error`, `expected ${code}Error, got ${error.code}: ${error.sdkMessage}`);
  assert.ok(error.sdkMessage.startsWith(`${code}Error: code: ${status}, `), error.sdkMessage);
  const data = error.data || {};
  for (const k of ENVELOPE) assert.equal(typeof data[k], 'string', `error body lacks ${k}: ${JSON.stringify(data)}`);
  assert.equal(data.Code, code);
  assert.ok(data.RequestId && error.sdkMessage.includes(`requestid: ${data.RequestId}`), error.sdkMessage);
  return error;
}

test('an unknown key is Forbidden.KeyNotFoundError (404), an unknown alias Forbidden.AliasNotFoundError', async () => {
  const e = await expectServerError(
    kms.encrypt({ keyId: '7d0a1c2e-0000-4000-8000-000000000000', plaintext: 'aGk=' }),
    404, 'Forbidden.KeyNotFound');
  assert.equal(e.data.Message, 'The specified Key is not found.');
  await expectServerError(kms.describeKey({ keyId: 'alias/npm/no-such-alias' }), 404, 'Forbidden.AliasNotFound');
});

test('a wrong AccessKeySecret is SignatureDoesNotMatchError (400), with the V1 string to sign', async () => {
  const e = await expectServerError(kms.listKeys({}, { secret: `${ACCESS_KEY_SECRET}x` }), 400, 'SignatureDoesNotMatch');
  const sts = e.data.Message.split('server string to sign is:')[1];
  assert.ok(sts && sts.startsWith('POST&%2F&') && sts.includes('Action%3DListKeys'), e.data.Message);
});

test('without NODE_EXTRA_CA_CERTS the SDK refuses the server certificate', async () => {
  const untrusting = startSdk(server, { caPath: null });
  try {
    let error;
    await assert.rejects(untrusting.listKeys({}), (e) => { error = e; return true; });
    assert.match(`${error.code} ${error.sdkMessage}`, /certificate|CERT/i, `not a TLS failure: ${error.message}`);
    assert.equal(error.data, undefined, 'a TLS failure must not reach the server');
  } finally {
    await untrusting.close();
  }
});

test('CreateKey with booleans, DescribeKey, ListKeys, UpdateAlias', async () => {
  const { keyMetadata: rotating } = await kms.createKey({ description: 'rotating key + spaces/é*',
    enableAutomaticRotation: true, rotationInterval: '30d' });
  assert.equal(rotating.automaticRotation, 'Enabled');
  const { keyMetadata: described } = await kms.describeKey({ keyId: rotating.keyId });
  assert.equal(described.keyId, rotating.keyId);
  assert.equal(described.automaticRotation, 'Enabled');
  assert.equal(described.rotationInterval, '2592000s');
  assert.ok(described.nextRotationDate);
  assert.equal(described.description, 'rotating key + spaces/é*');
  assert.equal(described.arn, `acs:kms:${REGION_ID}:${ACCOUNT_ID}:key/${rotating.keyId}`);

  const { keyMetadata: other } = await kms.createKey({ enableAutomaticRotation: false });
  assert.equal(other.automaticRotation, 'Disabled');

  // ListKeys, every page, finds both keys
  const seen = new Set();
  for (let page = 1; ; page++) {
    const body = await kms.listKeys({ pageNumber: page, pageSize: 10 });
    for (const k of body.keys.key) seen.add(k.keyId);
    if (page * body.pageSize >= body.totalCount) break;
  }
  assert.ok(seen.has(rotating.keyId) && seen.has(other.keyId), `ListKeys missed a key: ${[...seen]}`);

  // CreateAlias on one key, UpdateAlias to the other: Encrypt through the alias follows it
  const alias = `alias/npm/moving-${crypto.randomUUID()}`;
  await kms.createAlias({ aliasName: alias, keyId: rotating.keyId });
  assert.equal((await kms.encrypt({ keyId: alias, plaintext: 'x' })).keyId, rotating.keyId);
  const updated = await kms.updateAlias({ aliasName: alias, keyId: other.keyId });
  assert.ok(updated.requestId);
  assert.equal((await kms.describeKey({ keyId: alias })).keyMetadata.keyId, other.keyId);
  assert.equal((await kms.encrypt({ keyId: alias, plaintext: 'x' })).keyId, other.keyId);
});
