'use strict';
// The official npm SDK, run in a node process of its own.
//
// Why a separate process: node reads NODE_EXTRA_CA_CERTS (the SDK's documented way to trust a
// private CA) once, when the process starts. The server generates its CA at its first start,
// after the test process is already running, so the SDK calls happen in this worker, started
// with NODE_EXTRA_CA_CERTS=<data-dir>/tls/ca.pem: the same setup a user's program has.
//
// Protocol: one JSON object per line on stdin,
//   {"id": 1, "method": "encrypt", "params": {...}, "secret": "<optional other secret>"}
// and one per line on stdout,
//   {"id": 1, "ok": true, "body": <the SDK's response, lowerCamel keys>}
//   {"id": 1, "ok": false, "error": {"name", "code", "message", "data"}}
// The request object is built as user code builds it: new Kms.<Method>Request(params).
// Method "doRequest" with params {action, query} sends an action the SDK has no method for.
//
// Environment: OPENKMS_E2E_ENDPOINT (host:port), OPENKMS_E2E_ACCESS_KEY_ID,
// OPENKMS_E2E_ACCESS_KEY_SECRET, OPENKMS_E2E_REGION_ID.

const readline = require('node:readline');
const Kms = require('@alicloud/kms20160120');
const TeaUtil = require('@alicloud/tea-util');

const Client = Kms.default;
const clients = new Map();

function client(secret) {
  const accessKeySecret = secret || process.env.OPENKMS_E2E_ACCESS_KEY_SECRET;
  if (!clients.has(accessKeySecret)) {
    // exactly the seed-style construction, with only the endpoint changed (https is the default)
    clients.set(accessKeySecret, new Client({
      accessKeyId: process.env.OPENKMS_E2E_ACCESS_KEY_ID,
      accessKeySecret,
      regionId: process.env.OPENKMS_E2E_REGION_ID,
      endpoint: process.env.OPENKMS_E2E_ENDPOINT,
    }));
  }
  return clients.get(accessKeySecret);
}

async function handle({ method, params, secret }) {
  if (method === 'doRequest') {
    // an action this SDK version has no method for (ReEncrypt), sent the way its methods send
    // theirs: the SDK's own doRequest, which flattens nested objects into Name.key=value
    const { action, query } = params;
    return client(secret).doRequest(action, 'HTTPS', 'POST', '2016-01-20', 'AK', query, null,
      new TeaUtil.RuntimeOptions({}));
  }
  const className = method[0].toUpperCase() + method.slice(1) + 'Request';
  const RequestClass = Kms[className];
  if (typeof RequestClass !== 'function' || typeof Client.prototype[method] !== 'function') {
    throw new Error(`the SDK has no ${method} / ${className}`);
  }
  return client(secret)[method](new RequestClass(params || {}));
}

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// stdin closed (the test is done, or died): finish what is in flight, then exit
let inflight = 0;
let closed = false;
const lines = readline.createInterface({ input: process.stdin });
lines.on('close', () => {
  closed = true;
  if (inflight === 0) process.exit(0);
});
lines.on('line', async (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  inflight++;
  try {
    const body = await handle(msg);
    reply({ id: msg.id, ok: true, body: JSON.parse(JSON.stringify(body)) });
  } catch (e) {
    reply({
      id: msg.id,
      ok: false,
      error: { name: e && e.name, code: e && e.code, message: e && e.message, data: e && e.data },
    });
  } finally {
    inflight--;
    if (closed && inflight === 0) process.exit(0);
  }
});
