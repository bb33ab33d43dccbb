'use strict';
// The web console's key pairs, key import (BYOK) and Secrets Manager pages in Debian's Chromium
// (headless, through playwright-core), each result checked by an independent implementation:
// - an EC_P256 SIGN/VERIFY key made in the console: its page shows the public key PEM, which
//   node's crypto parses (and the npm SDK's GetPublicKey agrees); a digest signed in the console
//   verifies with node's crypto, and the console's AsymmetricVerify says valid / invalid;
// - an RSA_2048 ENCRYPT/DECRYPT key: node encrypts with the PEM the console shows (OAEP
//   SHA-256), the console decrypts it back; a disabled key pair's page shows the refusal of
//   GetPublicKey in its card, not as a failed action;
// - an EXTERNAL key: PendingImport in the list's filter and on its page, the import parameters
//   (a wrapping public key node parses, an ImportToken), 32 bytes wrapped by node imported
//   through the form (Enabled), then the material deleted after the confirm step (PendingImport);
// - a secret (a name with `/`, `+`, `=`; a value with line breaks and markup): not on its GET
//   page, revealed by an explicit POST whose answer is `no-store`, exactly as typed (the npm
//   SDK's GetSecretValue agrees, LFs and all), a new version put and revealed, ACSCurrent moved
//   back, deleted with a recovery window and restored, then deleted at once;
// and no page logs an error in the browser, and the console's audit lines name the actions.
// Screenshots go where console.test.js puts them (revealed values painted over).
//
// Needs /usr/bin/chromium (Debian package `chromium`), as console.test.js does.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');

const { NO_CHROMIUM, SHOTS, STEP_TIMEOUT_MS, haveChromium, launchChromium } = require('./lib/browser');
const { startServerAndSdk, stopServerAndSdk } = require('./lib/harness');
const { ACCESS_KEY_ID, ACCESS_KEY_SECRET } = require('./lib/server');

let server;
let kms;
let browser;
const consoleErrors = [];

before(async () => {
  if (!haveChromium('console key pair / secrets test')) return;
  ({ server, kms } = await startServerAndSdk());
  assert.ok(server.consoleUrl, 'the server printed no console line');
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  await stopServerAndSdk({ server, kms });
});

const url = (p) => new URL(p, server.consoleUrl).toString();

/** Root's signed-in page, watching for errors the browser logs. */
async function rootPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
  await page.goto(url('signin'));
  await page.getByLabel('AccessKeyId').fill(ACCESS_KEY_ID);
  await page.getByLabel('AccessKeySecret').fill(ACCESS_KEY_SECRET);
  await page.getByRole('button', { name: 'Sign in with AccessKey' }).click();
  await page.waitForURL(/\/console\/keys/);
  return { context, page };
}

async function shot(page, name, mask = []) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, mask });
}

const text = async (page, selector) => (await page.locator(selector).textContent()).trim();

/** Creates a key from the keys page's form; its id (the key's page is open). */
async function createKey(page, { description, spec, usage = '', origin = 'Aliyun_KMS' }) {
  await page.goto(url('keys'));
  await page.getByLabel('Description').fill(description);
  await page.getByLabel('Key spec').selectOption(spec);
  await page.getByLabel('Key usage').selectOption(usage);
  await page.getByLabel('Origin').selectOption(origin);
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.waitForURL(/\/console\/keys\/[0-9a-f-]{36}\?done=created/);
  return text(page, '#key-id');
}

/** Clicks a button that asks for confirmation, accepting it. */
async function confirmAndClick(page, selector) {
  let asked = null;
  page.once('dialog', (dialog) => { asked = dialog.message(); dialog.accept(); });
  await page.locator(selector).click();
  return () => asked;
}

const skip = NO_CHROMIUM;

test('key pairs in the console: public key, sign, verify, decrypt', { skip }, async () => {
  const { context, page } = await rootPage();

  // an EC_P256 signing key; its page shows the PEM public key of its version
  const keyId = await createKey(page, { description: 'console signer', spec: 'EC_P256', usage: 'SIGN/VERIFY' });
  assert.equal(await text(page, '#key-spec'), 'EC_P256');
  assert.equal(await text(page, '#key-usage'), 'SIGN/VERIFY');
  assert.equal(await text(page, '#key-origin'), 'Aliyun_KMS');
  assert.equal(await text(page, '#key-state'), 'Enabled');
  const pem = await page.locator('#public-key').textContent();
  const versionId = await text(page, '#public-key-version');
  const publicKey = crypto.createPublicKey(pem);
  assert.equal(publicKey.asymmetricKeyType, 'ec');
  assert.equal(publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1');
  const viaSdk = await kms.getPublicKey({ keyId, keyVersionId: versionId });
  assert.equal(viaSdk.publicKey, pem, 'the console shows another public key than GetPublicKey');
  await shot(page, 'key-pair');

  // the list shows its spec, usage and origin
  await page.goto(url('keys'));
  const row = page.getByRole('row').filter({ hasText: keyId });
  await row.getByRole('cell', { name: 'SIGN/VERIFY' }).waitFor();
  await row.getByRole('cell', { name: 'EC_P256', exact: true }).waitFor();

  // sign a digest in the console (from the key page's link: key and version filled in);
  // node's crypto verifies the signature with the PEM
  await page.goto(url(`keys/${keyId}`));
  await page.getByRole('link', { name: 'Sign or verify with this version' }).click();
  await page.waitForURL(/\/console\/crypto\?key=/);
  assert.equal(await page.locator('#sign-key').inputValue(), keyId);
  assert.equal(await page.locator('#sign-version').inputValue(), versionId);
  const message = Buffer.from(`signed in the console ${crypto.randomUUID()}`);
  const digest = crypto.createHash('sha256').update(message).digest('base64');
  await page.locator('#sign-algorithm').selectOption('ECDSA_SHA_256');
  await page.locator('#sign-digest').fill(digest);
  await page.locator('#sign').click();
  const signature = await text(page, '#signature-out');
  assert.ok(crypto.verify('sha256', message, publicKey, Buffer.from(signature, 'base64')),
    'node does not verify the console\'s signature');
  await shot(page, 'crypto-sign');

  // the console's AsymmetricVerify: valid, and invalid for another digest
  await page.locator('#verify-algorithm').selectOption('ECDSA_SHA_256');
  await page.locator('#verify-digest').fill(digest);
  await page.locator('#verify-signature').fill(signature);
  await page.locator('#verify').click();
  assert.match(await text(page, '#verify-out'), /^Valid/);
  const other = crypto.createHash('sha256').update('another message').digest('base64');
  await page.locator('#verify-algorithm').selectOption('ECDSA_SHA_256');
  await page.locator('#verify-digest').fill(other);
  await page.locator('#verify-signature').fill(signature);
  await page.locator('#verify').click();
  assert.match(await text(page, '#verify-out'), /^Invalid/);
  // a key pair's version left empty: the newest is used
  await page.locator('#sign-version').fill('');
  await page.locator('#sign-algorithm').selectOption('ECDSA_SHA_256');
  await page.locator('#sign-digest').fill(digest);
  await page.locator('#sign').click();
  assert.ok(crypto.verify('sha256', message, publicKey,
    Buffer.from(await text(page, '#signature-out'), 'base64')));

  // an RSA_2048 encryption key: node encrypts with its PEM, the console decrypts
  const rsaId = await createKey(page, { description: 'console decrypter', spec: 'RSA_2048', usage: 'ENCRYPT/DECRYPT' });
  assert.equal(await text(page, '#key-usage'), 'ENCRYPT/DECRYPT');
  const rsaPem = await page.locator('#public-key').textContent();
  const rsaKey = crypto.createPublicKey(rsaPem);
  assert.equal(rsaKey.asymmetricKeyDetails.modulusLength, 2048);
  const secretText = 'a data key <b>&amp;</b> é';
  const wrapped = crypto.publicEncrypt(
    { key: rsaKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(secretText, 'utf8'));
  await page.getByRole('link', { name: 'Encrypt or decrypt with this version' }).click();
  await page.locator('#pair-dec-algorithm').selectOption('RSAES_OAEP_SHA_256');
  await page.locator('#pair-ciphertext').fill(wrapped.toString('base64'));
  await page.locator('#pair-decrypt').click();
  assert.equal(await page.locator('#pair-text-out').textContent(), secretText);
  assert.equal(await text(page, '#pair-plaintext-out'), Buffer.from(secretText).toString('base64'));
  // the console encrypts, and decrypts its own ciphertext back
  await page.locator('#pair-enc-algorithm').selectOption('RSAES_OAEP_SHA_256');
  await page.locator('#pair-plaintext').fill('round trip');
  await page.locator('#pair-encrypt').click();
  const blob = await text(page, '#pair-ciphertext-out');
  assert.equal(Buffer.from(blob, 'base64').length, 256);
  await page.locator('#pair-dec-algorithm').selectOption('RSAES_OAEP_SHA_256');
  await page.locator('#pair-ciphertext').fill(blob);
  await page.locator('#pair-decrypt').click();
  assert.equal(await page.locator('#pair-text-out').textContent(), 'round trip');
  // signing with an encryption key is the API's refusal, shown with its code
  await page.locator('#sign-key').fill(rsaId);
  await page.locator('#sign-digest').fill(digest);
  await page.locator('#sign').click();
  assert.match(await text(page, '#api-error'), /InvalidParameter/);

  // a disabled key pair's page says why it shows no public key, in the card, not as a failure
  await page.goto(url(`keys/${keyId}`));
  await page.locator('#disable-key').click();
  await page.waitForURL(/done=disabled/);
  assert.match(await text(page, '#public-key-error'), /Rejected\.Disabled/);
  assert.equal(await page.locator('#api-error').count(), 0);
  assert.equal(await page.locator('#public-key').count(), 0);

  await context.close();
  assert.deepEqual(consoleErrors, [], `the browser console showed errors:\n${consoleErrors.join('\n')}`);
});

test('an EXTERNAL key in the console: PendingImport, import parameters, import, delete material', { skip }, async () => {
  const { context, page } = await rootPage();
  const keyId = await createKey(page, { description: 'bring your own', spec: 'Aliyun_AES_256', origin: 'EXTERNAL' });
  assert.equal(await text(page, '#key-origin'), 'EXTERNAL');
  assert.equal(await text(page, '#key-state'), 'PendingImport');
  await page.getByText('This key has no material').waitFor();

  // the list's state filter finds it
  await page.goto(url('keys?state=PendingImport'));
  await page.getByRole('link', { name: keyId }).waitFor();

  // import parameters: an RSA_2048 wrapping key node parses, and a token
  await page.goto(url(`keys/${keyId}`));
  await page.locator('#wrapping').selectOption('RSAES_OAEP_SHA_256');
  await page.locator('#get-import-parameters').click();
  const wrappingB64 = (await text(page, '#wrapping-public-key')).replace(/\s+/g, '');
  const token = (await text(page, '#import-token-out')).replace(/\s+/g, '');
  assert.ok(token.length > 20, 'no ImportToken');
  const wrappingKey = crypto.createPublicKey({ key: Buffer.from(wrappingB64, 'base64'), format: 'der', type: 'spki' });
  assert.equal(wrappingKey.asymmetricKeyType, 'rsa');
  assert.equal(wrappingKey.asymmetricKeyDetails.modulusLength, 2048);
  await shot(page, 'byok');

  // 32 bytes wrapped by node, imported through the form: the key is enabled and encrypts
  const material = crypto.randomBytes(32);
  const encrypted = crypto.publicEncrypt(
    { key: wrappingKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  await page.locator('#material').fill(encrypted.toString('base64'));
  await page.locator('#import-token').fill(token);
  await page.locator('#import-material').click();
  await page.waitForURL(/done=imported/);
  assert.equal(await text(page, '#key-state'), 'Enabled');
  const sealed = await kms.encrypt({ keyId, plaintext: 'imported material works' });
  assert.equal(sealed.keyId, keyId);

  // delete the material, the key's id typed and after the confirm step: pending import again
  await page.locator('#material-confirm').fill(keyId);
  const asked = await confirmAndClick(page, '#delete-material');
  await page.waitForURL(/done=material-deleted/);
  assert.match(asked(), /Delete this key's material/);
  assert.equal(await text(page, '#key-state'), 'PendingImport');

  await context.close();
  assert.deepEqual(consoleErrors, [], `the browser console showed errors:\n${consoleErrors.join('\n')}`);
});

test('secrets in the console: create, reveal, put, delete, restore', { skip }, async () => {
  const { context, page } = await rootPage();
  const name = `console/db+pw=${crypto.randomUUID().slice(0, 8)}`;
  const value = 'line one\nline <two> & "three"\n';

  await page.goto(url('secrets'));
  await page.locator('#secret-name').fill(name);
  await page.locator('#secret-value').fill(value);
  await page.getByRole('button', { name: 'Create secret' }).click();
  await page.waitForURL(/\/console\/secrets\/secret\?name=.*done=created/);
  assert.equal(await text(page, '#secret-name'), name);
  assert.equal(await text(page, '#secret-state'), 'Active');
  // the GET page never holds the value
  assert.ok(!(await page.content()).includes('line one'), 'the value is on a GET page');

  // the list links to it (the name encoded in the query)
  await page.goto(url('secrets'));
  await page.getByRole('link', { name }).click();
  await page.waitForURL(/\/console\/secrets\/secret\?name=/);
  await shot(page, 'secret');

  // reveal: an explicit POST, answered no-store, the value exactly as typed
  const [revealed] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/console/secrets/secret/reveal')),
    page.locator('#reveal-current').click(),
  ]);
  assert.equal(revealed.request().method(), 'POST');
  assert.equal(revealed.headers()['cache-control'], 'no-store');
  assert.equal(await page.locator('#revealed-value').textContent(), value);
  assert.equal(await text(page, '#revealed-version'), 'v1');
  const viaSdk = await kms.getSecretValue({ secretName: name });
  assert.equal(viaSdk.secretData, value, 'the SDK reads another value than the console stored');

  // a new version becomes ACSCurrent
  await page.locator('#put-value').fill('second value');
  await page.locator('#put-version').fill('v2');
  await page.locator('#put-secret').click();
  await page.waitForURL(/done=updated/);
  await page.getByRole('row').filter({ hasText: 'ACSPrevious' }).getByText('v1', { exact: true }).waitFor();
  await page.locator('#reveal-current').click();
  assert.equal(await page.locator('#revealed-value').textContent(), 'second value');
  assert.equal(await text(page, '#revealed-version'), 'v2');
  await shot(page, 'secret-revealed', [page.locator('#revealed-value')]);
  // the old version's value is one click away too
  await page.getByRole('row').filter({ hasText: 'ACSPrevious' }).getByRole('button', { name: 'Show value' }).click();
  assert.equal(await page.locator('#revealed-value').textContent(), value);

  // move ACSCurrent back to v1: the current value is the first one again
  await page.locator('#move-to').fill('v1');
  await page.locator('#remove-from').fill('v2');
  await page.getByRole('button', { name: 'Move stage' }).click();
  await page.waitForURL(/done=updated/);
  await page.locator('#reveal-current').click();
  assert.equal(await text(page, '#revealed-version'), 'v1');
  assert.equal(await page.locator('#revealed-value').textContent(), value);

  // delete with a recovery window, after the confirm step; restore
  await page.locator('#recovery-days').fill('7');
  const asked = await confirmAndClick(page, '#delete-secret');
  await page.waitForURL(/done=secret-scheduled/);
  assert.match(asked(), /Delete this secret/);
  assert.match(await text(page, '#secret-state'), /^Deleted on /);
  await page.locator('#restore-secret').click();
  await page.waitForURL(/done=restored/);
  assert.equal(await text(page, '#secret-state'), 'Active');

  // delete at once: refused until the name is typed, then gone from the list
  await page.locator('#force-delete').check();
  await confirmAndClick(page, '#delete-secret');
  await page.waitForURL(/\/console\/secrets\/secret\/delete$/);
  assert.match(await text(page, '#api-error'), /ConfirmationRequired/);
  assert.equal(await text(page, '#secret-state'), 'Active');
  await page.locator('#force-delete').check();
  await page.locator('#delete-confirm').fill(name);
  await confirmAndClick(page, '#delete-secret');
  await page.waitForURL(/\/console\/secrets\?done=deleted/);
  assert.equal(await page.getByRole('link', { name }).count(), 0);
  await shot(page, 'secrets');
  await context.close();

  // the console's lines name the secret actions
  const lines = fs.readFileSync(path.join(server.dataDir, 'audit', 'audit.log'), 'utf8')
    .trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.via === 'console');
  for (const action of ['CreateSecret', 'GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage',
    'DeleteSecret', 'RestoreSecret',
    'GetPublicKey', 'AsymmetricSign', 'AsymmetricVerify', 'AsymmetricDecrypt', 'GetParametersForImport',
    'ImportKeyMaterial', 'DeleteKeyMaterial']) {
    assert.ok(lines.some((l) => l.action === action && l.outcome === 'OK' && l.user === 'root'),
      `no console line for ${action}`);
  }
  assert.deepEqual(consoleErrors, [], `the browser console showed errors:\n${consoleErrors.join('\n')}`);
});
