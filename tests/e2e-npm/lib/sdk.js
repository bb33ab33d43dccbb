'use strict';
// The test side of lib/sdk-worker.js: `const kms = await startSdk(server)`, then
// `await kms.encrypt({ keyId, plaintext, encryptionContext })` resolves to the SDK's response
// (lowerCamel keys) or rejects with an SdkError carrying the SDK's code, message and data.

const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const { ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID, hermeticEnv } = require('./server');

const CALL_TIMEOUT_MS = 30_000;
const WORKER = path.join(__dirname, 'sdk-worker.js');

class SdkError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.code}: ${error.message}`);
    this.name = 'SdkError';
    this.sdkName = error.name;
    this.code = error.code;
    this.sdkMessage = error.message;
    this.data = error.data;
  }
}

/**
 * Start a worker for `server`. Options: caPath (default: the server's generated CA; null to
 * start the worker without NODE_EXTRA_CA_CERTS).
 * Returns a proxy: kms.<method>(params, { secret }) for every SDK method, plus kms.close().
 */
function startSdk(server, { caPath = server.caPath } = {}) {
  const env = hermeticEnv({
    OPENKMS_E2E_ENDPOINT: server.host,
    OPENKMS_E2E_ACCESS_KEY_ID: ACCESS_KEY_ID,
    OPENKMS_E2E_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    OPENKMS_E2E_REGION_ID: REGION_ID,
  });
  if (caPath) env.NODE_EXTRA_CA_CERTS = caPath;
  const child = spawn(process.execPath, [WORKER], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });

  const pending = new Map();
  let nextId = 1;
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = code ?? signal;
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(new Error(`the SDK worker exited (${exited}); stderr:\n${stderr}`));
    }
    pending.clear();
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    const entry = pending.get(msg.id);
    if (!entry) return;
    pending.delete(msg.id);
    clearTimeout(entry.timer);
    if (msg.ok) entry.resolve(msg.body);
    else entry.reject(new SdkError(entry.method, msg.error));
  });

  function call(method, params, { secret } = {}) {
    if (exited !== null) return Promise.reject(new Error(`the SDK worker has exited (${exited})`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${method}: no answer from the SDK within ${CALL_TIMEOUT_MS} ms; server ${server.running() ? 'running' : 'exited'}; server log:\n${server.logTail()}`));
      }, CALL_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer, method });
      child.stdin.write(JSON.stringify({ id, method, params, secret }) + '\n');
    });
  }

  async function close() {
    if (exited !== null) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    child.kill('SIGTERM');
    await done;
  }

  return new Proxy({}, {
    get(_target, prop) {
      if (prop === 'close') return close;
      if (prop === 'then') return undefined; // not a thenable
      return (params, opts) => call(String(prop), params, opts);
    },
  });
}

module.exports = { SdkError, startSdk };
